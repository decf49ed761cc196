// A 120 centre's cases in headless Chromium: the supervisor signs in, picks the centre in the
// queue's filter, opens its day case (the day's figures and the calls that missed), opens a
// handover case of its ambulance (both clocks side by side), in Chinese and in English, and
// reads the centre's row on the public board.
// Usage: node dispatch.mjs BASE_URL EMAIL PASSWORD CENTRE_CODE HANDOVER_CASE_ID
import { chromium } from 'playwright-core';

const [base, email, password, centre, handover] = process.argv.slice(2);
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
  await page.selectOption('#f-hospital', centre);
  await page.selectOption('#f-rule', 'dispatch.answer_rate');
  await Promise.all([page.waitForNavigation(), page.click('#apply')]);
  r.queue = await cells(page, 'table.cases tbody');
  await Promise.all([page.waitForNavigation(), page.click('a.case-link')]);
  r.centre = (await page.textContent('#case-centre')).trim();
  r.figures = await cells(page, '#day-figures tbody');
  r.late = (await page.textContent('#day-late')).trim();
  const dayCase = page.url().split('?')[0];
  await page.goto(`${dayCase}?lang=en`);
  r.figures_en = await cells(page, '#day-figures tbody');
  await page.goto(`${base}/cases/${handover}`);
  r.clocks = await cells(page, '#clocks tbody');
  await page.goto(`${base}/cases/${handover}?lang=en`);
  r.clocks_en = await cells(page, '#clocks tbody');
  await page.goto(`${base}/hospitals`);
  r.board = await cells(page, '#centres tbody');
  await page.screenshot({ path: `${process.env.SCREENSHOT_DIR || '/tmp'}/centre-board.png`, fullPage: true });
} finally {
  await browser.close();
}
console.log(JSON.stringify(r));
