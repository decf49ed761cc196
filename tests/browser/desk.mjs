// The 12320 loop in headless Chromium, as a new user would walk it: the operator signs in,
// takes a phone complaint at /desk (hospital typed by its code), forwards it; the hospital's
// staff answer it from their inbox; the operator records the callback.
// Usage: node desk.mjs BASE_URL OPERATOR_EMAIL HOSPITAL_EMAIL PASSWORD
import { chromium } from 'playwright-core';

const [base, operator, hospital, password] = process.argv.slice(2);
const browser = await chromium.launch({
  executablePath: process.env.CHROMIUM || '/usr/bin/chromium',
  args: ['--no-sandbox', '--disable-gpu', '--disable-background-networking', '--disable-component-update', '--disable-sync', '--no-first-run'],
});
const r = {};
async function login(page, email) {
  await page.goto(`${base}/login`);
  await page.fill('#email', email);
  await page.fill('#password', password);
  await Promise.all([page.waitForNavigation(), page.click('#login button[type=submit]')]);
  return page.url();
}
try {
  const desk = await (await browser.newContext({ locale: 'zh-CN' })).newPage();
  r.operator_landing = await login(desk, operator);
  r.focused = await desk.evaluate(() => document.activeElement && document.activeElement.id);
  // Keyboard first: the hospital field has the focus.
  await desk.keyboard.type('BJ-CY');
  await desk.selectOption('#category', 'handover_delay');
  await desk.fill('#description', '来电反映：救护车到院后四十分钟无人交接');
  await desk.fill('#contact_phone', '13800138000');
  await desk.fill('#contact_name', '王先生');
  await desk.fill('#external_ref', '12320-BROWSER-1');
  await Promise.all([desk.waitForNavigation(), desk.press('#external_ref', 'Enter')]);
  r.filed = await desk.textContent('#filed');
  r.code = (await desk.textContent('#filed strong')).trim();
  const row = desk.locator('#to-forward tbody tr', { hasText: r.code });
  await Promise.all([desk.waitForNavigation(), row.locator('button').click()]);
  r.still_to_forward = await desk.locator('#to-forward tbody tr', { hasText: r.code }).count();

  const inbox = await (await browser.newContext({ locale: 'zh-CN' })).newPage();
  r.hospital_landing = await login(inbox, hospital);
  // The hospital never sees the tracking code: its inbox names the complaint by number.
  r.inbox_has_code = (await inbox.content()).includes(r.code);
  await Promise.all([inbox.waitForNavigation(), inbox.locator('#complaint-inbox a').first().click()]);
  r.hospital_status_before = await inbox.textContent('#complaint-status');
  r.hospital_page = await inbox.content();
  await inbox.fill('#note', '经核实：当晚急诊交接登记延误，已整改并致歉。');
  await Promise.all([inbox.waitForNavigation(), inbox.click('#answer-form button[type=submit]')]);
  r.hospital_status_after = await inbox.textContent('#complaint-status');

  await desk.goto(`${base}/desk`);
  const call = desk.locator('#callbacks tbody tr', { hasText: r.code });
  r.callback_rows = await call.count();
  r.callback_answer = await call.textContent();
  await call.locator('input[name=resolved][value=true]').check();
  await call.locator('select[name=satisfaction]').selectOption('satisfied');
  await call.locator('input[name=note]').fill('来电人表示满意');
  await Promise.all([desk.waitForNavigation(), call.locator('button[type=submit]').click()]);
  r.callbacks_after = await desk.locator('#callbacks tbody tr', { hasText: r.code }).count();
  await desk.screenshot({ path: `${process.env.SCREENSHOT_DIR || '/tmp'}/desk.png`, fullPage: true });
} finally {
  await browser.close();
}
console.log(JSON.stringify(r));
