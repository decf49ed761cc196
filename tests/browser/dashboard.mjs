// An inspector's day in headless Chromium: sign in, filter the queue, open a case, act on it,
// and see the action in the case's history.   Usage: node dashboard.mjs BASE_URL EMAIL PASSWORD
import { chromium } from 'playwright-core';

const [base, email, password] = process.argv.slice(2);
const browser = await chromium.launch({
  executablePath: process.env.CHROMIUM || '/usr/bin/chromium',
  args: ['--no-sandbox', '--disable-gpu', '--disable-background-networking', '--disable-component-update', '--disable-sync', '--no-first-run'],
});
const r = {};
try {
  const page = await browser.newPage({ viewport: { width: 1280, height: 900 }, locale: 'zh-CN' });
  await page.goto(`${base}/dashboard`);
  r.redirected = page.url();
  await page.fill('#email', email);
  await page.fill('#password', password);
  await Promise.all([page.waitForNavigation(), page.click('#login button[type=submit]')]);
  r.after_login = page.url();
  r.title = await page.textContent('h1');
  await page.selectOption('#f-rule', 'handover.delay');
  await Promise.all([page.waitForNavigation(), page.click('#apply')]);
  r.filtered_url = page.url();
  r.rows = await page.locator('table.cases tbody tr').count();
  await Promise.all([page.waitForNavigation(), page.click('a.case-link >> nth=0')]);
  r.case_url = page.url();
  r.status_before = await page.textContent('#case-status');
  await page.selectOption('#action', 'acknowledge');
  await page.fill('#note', '已联系医院核实交接记录');
  await Promise.all([page.waitForNavigation(), page.click('#act button[type=submit]')]);
  r.status_after = await page.textContent('#case-status');
  r.history = await page.textContent('#history');
  r.evidence = await page.textContent('#evidence');
} finally {
  await browser.close();
}
console.log(JSON.stringify(r));
