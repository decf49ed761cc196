// A community desk's case in headless Chromium: the supervisor signs in, picks the desk in the
// queue's filter, opens its transport.priority case (the request's timeline and the ordinary
// request whose car went first), in Chinese and in English, and reads the district's row on
// the public board.
// Usage: node transport.mjs BASE_URL EMAIL PASSWORD DESK_CODE
import { chromium } from 'playwright-core';

const [base, email, password, desk] = process.argv.slice(2);
const browser = await chromium.launch({
  executablePath: process.env.CHROMIUM || '/usr/bin/chromium',
  args: ['--no-sandbox', '--disable-gpu', '--disable-background-networking', '--disable-component-update', '--disable-sync', '--no-first-run'],
});
const r = {};
const cells = (page, selector) => page.$$eval(`${selector} tr`, (trs) => trs.map((tr) => [...tr.cells].map((c) => c.textContent.trim())));
try {
  const page = await (await browser.newContext({ locale: 'zh-CN' })).newPage();
  await page.goto(`${base}/login`);
  await page.fill('#email', email);
  await page.fill('#password', password);
  await Promise.all([page.waitForNavigation(), page.click('#login button[type=submit]')]);
  await page.selectOption('#f-hospital', desk);
  await page.selectOption('#f-rule', 'transport.priority');
  await Promise.all([page.waitForNavigation(), page.click('#apply')]);
  r.queue = await cells(page, 'table.cases tbody');
  await Promise.all([page.waitForNavigation(), page.click('a.case-link')]);
  r.desk = (await page.textContent('#case-desk')).trim();
  r.transport = await cells(page, '#transport tbody');
  r.passed_over_by = await cells(page, '#passed-over-by tbody');
  const url = page.url().split('?')[0];
  await page.goto(`${url}?lang=en`);
  r.transport_en = await cells(page, '#transport tbody');
  await page.goto(`${base}/hospitals`);
  r.districts = await cells(page, '#districts tbody');
  await page.screenshot({ path: `${process.env.SCREENSHOT_DIR || '/tmp'}/transport-board.png`, fullPage: true });
} finally {
  await browser.close();
}
console.log(JSON.stringify(r));
