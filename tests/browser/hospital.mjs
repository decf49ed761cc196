// A hospital's staff member in headless Chromium: sign in, land on the inbox, open the forwarded
// case, reply (contesting the finding), and see the reply in the case's history.
// Usage: node hospital.mjs BASE_URL EMAIL PASSWORD
import { chromium } from 'playwright-core';

const [base, email, password] = process.argv.slice(2);
const browser = await chromium.launch({
  executablePath: process.env.CHROMIUM || '/usr/bin/chromium',
  args: ['--no-sandbox', '--disable-gpu', '--disable-background-networking', '--disable-component-update', '--disable-sync', '--no-first-run'],
});
const r = {};
try {
  const page = await browser.newPage({ viewport: { width: 1280, height: 900 }, locale: 'zh-CN' });
  await page.goto(`${base}/login`);
  await page.fill('#email', email);
  await page.fill('#password', password);
  await Promise.all([page.waitForNavigation(), page.click('#login button[type=submit]')]);
  r.after_login = page.url();
  r.title = await page.textContent('h1');
  r.rows = await page.locator('#inbox tbody tr').count();
  await Promise.all([page.waitForNavigation(), page.click('#inbox a >> nth=0')]);
  r.case_url = page.url();
  r.status_before = await page.textContent('#case-status');
  r.reply_due = await page.textContent('#reply-due');
  await page.check('input[name=admits][value=false]');
  await page.fill('#note', '当时抢救室满员，已电话联系120改送');
  await Promise.all([page.waitForNavigation(), page.click('#reply button[type=submit]')]);
  r.status_after = await page.textContent('#case-status');
  r.history = await page.textContent('#history');
  r.reply_form_after = await page.locator('#reply').count();
  await page.screenshot({ path: `${process.env.SCREENSHOT_DIR || '/tmp'}/hospital-case.png`, fullPage: true });
} finally {
  await browser.close();
}
console.log(JSON.stringify(r));
