// Opens every page that shows text someone else typed, with JavaScript on, and reports whether
// an injected payload ran or became markup, and whether it is shown as the text it was.
// Usage: node injection.mjs BASE_URL EMAIL PASSWORD PAYLOAD PATH...   -> JSON report on stdout.
import { chromium } from 'playwright-core';

const [base, email, password, payload, ...paths] = process.argv.slice(2);
const browser = await chromium.launch({
  executablePath: process.env.CHROMIUM || '/usr/bin/chromium',
  args: ['--no-sandbox', '--disable-gpu', '--disable-background-networking', '--disable-component-update', '--disable-sync', '--no-first-run'],
});
const report = { pages: {} };
const inspect = async (page) => {
  const r = await page.evaluate((p) => ({
    pwned: window.__pwned === 1,
    // Markup the payload would create if it were not escaped (CSP would stop the script, not the element).
    injected: document.querySelectorAll('img[src="x"], svg[onload], script:not([src])').length,
    shows: document.body.innerText.includes(p.slice(0, 40)),
  }), payload);
  r.dialogs = dialogs;
  return r;
};
let dialogs = 0;
try {
  const page = await browser.newPage({ viewport: { width: 1280, height: 900 }, locale: 'zh-CN' });
  page.on('dialog', async (d) => { dialogs += 1; await d.dismiss(); });
  // The payload as a login email: refused, echoed back harmlessly.
  await page.goto(`${base}/login`);
  await page.fill('#email', payload);
  await page.fill('#password', 'wrong password');
  await Promise.all([page.waitForNavigation(), page.click('#login button[type=submit]')]);
  report.login = await inspect(page);
  // The service keeps the address typed, trimmed and lower-cased.
  report.login.kept_email = (await page.inputValue('#email')) === payload.trim().toLowerCase();
  // Then as an administrator, every page that shows the stored payloads.
  await page.fill('#email', email);
  await page.fill('#password', password);
  await Promise.all([page.waitForNavigation(), page.click('#login button[type=submit]')]);
  for (const path of paths) {
    const response = await page.goto(`${base}${path}`);
    report.pages[path] = { status: response.status(), ...(await inspect(page)) };
  }
} finally {
  await browser.close();
}
console.log(JSON.stringify(report));
