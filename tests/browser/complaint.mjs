// Drives headless Chromium through the complaint form as a citizen on a phone would.
// Usage: node complaint.mjs BASE_URL   -> prints a JSON report on stdout.
import { chromium } from 'playwright-core';

const base = process.argv[2];
const browser = await chromium.launch({
  executablePath: process.env.CHROMIUM || '/usr/bin/chromium',
  args: ['--no-sandbox', '--disable-gpu', '--disable-background-networking', '--disable-component-update',
         '--disable-sync', '--no-first-run', '--disable-quic'],
});
const report = {};
try {
  for (const lang of ['zh', 'en']) {
    const context = await browser.newContext({
      viewport: { width: 390, height: 844 },
      locale: lang === 'en' ? 'en-US' : 'zh-CN',
      javaScriptEnabled: false, // the form works without JavaScript
    });
    const page = await context.newPage();
    // The language comes from Accept-Language (the browser's locale): no ?lang= here.
    await page.goto(`${base}/complaints/new`);
    const r = { h1: await page.textContent('h1'), emergency: await page.textContent('.emergency-box') };

    // Validation round trip: no description, a name typed; the error sits beside the field.
    await page.fill('#hospital_name', '测试医院<b>');
    await page.click('label[for="category-pushed_away"]');
    await page.fill('#occurred_at', '2026-11-20T10:30');
    await page.click('button[type="submit"]');
    r.invalid_url = page.url();
    r.error_summary = await page.textContent('.error-summary');
    r.description_error = await page.textContent('#description-error');
    r.kept_name = await page.inputValue('#hospital_name');
    r.kept_category = await page.isChecked('#category-pushed_away');

    // Fill the rest by keyboard and labels, and send.
    await page.selectOption('#hospital', 'BJ-CY');
    await page.focus('#description');
    await page.keyboard.type(lang === 'en' ? 'Refused at the door <script>alert(1)</script>' : '急诊以黄码为由不让进 <script>alert(1)</script>');
    await page.fill('#contact_phone', '13900003333');
    await Promise.all([page.waitForNavigation(), page.click('button[type="submit"]')]);
    r.landed = page.url();
    r.code = (await page.textContent('[data-testid="tracking-code"]')).trim();
    r.status = await page.textContent('[data-testid="status"]');
    r.page_has_phone = (await page.content()).includes('13900003333');
    r.html_lang = await page.getAttribute('html', 'lang');
    await page.screenshot({ path: `${process.env.SCREENSHOT_DIR || '/tmp'}/complaint-${lang}.png`, fullPage: true });
    report[lang] = r;
    await context.close();
  }
} finally {
  await browser.close();
}
console.log(JSON.stringify(report));
