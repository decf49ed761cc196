// The hotline's report in headless Chromium: the operator signs in, opens the report from the
// navigation, asks for a week by district and by hospital, follows the CSV and bulletin links,
// and prints the bulletin on A4 (the print layout hides the navigation).
// Usage: node reports.mjs BASE_URL OPERATOR_EMAIL PASSWORD FROM UNTIL
import { chromium } from 'playwright-core';

const [base, operator, password, from, until] = process.argv.slice(2);
const browser = await chromium.launch({
  executablePath: process.env.CHROMIUM || '/usr/bin/chromium',
  args: ['--no-sandbox', '--disable-gpu', '--disable-background-networking', '--disable-component-update', '--disable-sync', '--no-first-run'],
});
const r = {};
const rows = (page) => page.$$eval('#report-table tbody tr', (trs) => trs.map((tr) => [...tr.cells].map((c) => c.textContent.trim())));
try {
  const page = await (await browser.newContext({ locale: 'zh-CN' })).newPage();
  await page.goto(`${base}/login`);
  await page.fill('#email', operator);
  await page.fill('#password', password);
  await Promise.all([page.waitForNavigation(), page.click('#login button[type=submit]')]);
  await Promise.all([page.waitForNavigation(), page.click('nav a[href^="/reports"]')]);
  r.heading = await page.textContent('h1');
  await page.fill('#from', from);
  await page.fill('#until', until);
  await page.selectOption('#by', 'district');
  await Promise.all([page.waitForNavigation(), page.click('#report-form button[type=submit]')]);
  r.url_by_district = page.url();
  r.by_district = await rows(page);
  await page.selectOption('#by', 'hospital');
  await Promise.all([page.waitForNavigation(), page.click('#report-form button[type=submit]')]);
  r.by_hospital = await rows(page);
  r.total = await page.$eval('#report-table tfoot tr', (tr) => [...tr.cells].map((c) => c.textContent.trim()));
  r.charts = await page.locator('section.chart svg').count();
  r.csv_href = await page.getAttribute('#report-csv', 'href');
  await Promise.all([page.waitForNavigation(), page.click('#report-bulletin')]);
  r.bulletin_h1 = await page.textContent('article.bulletin h1');
  r.bulletin_text = await page.textContent('article.bulletin');
  await page.emulateMedia({ media: 'print' });
  r.nav_in_print = await page.$eval('header.top', (e) => getComputedStyle(e).display);
  const pdf = await page.pdf({ preferCSSPageSize: true });
  // An A4 page is 595 × 842 points.
  r.pdf_pages = (pdf.toString('latin1').match(/\/Type\s*\/Page[^s]/g) || []).length;
  const box = pdf.toString('latin1').match(/\/MediaBox\s*\[([^\]]*)\]/);
  r.pdf_media_box = box ? box[1].trim().split(/\s+/).map(Number) : null;
  await page.screenshot({ path: `${process.env.SCREENSHOT_DIR || '/tmp'}/bulletin.png`, fullPage: true });
} finally {
  await browser.close();
}
console.log(JSON.stringify(r));
