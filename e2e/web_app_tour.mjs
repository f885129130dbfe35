// Drives a build of Glific's web app, served against this backend, in headless Chromium:
// signs in, opens each screen, and reports what broke (GraphQL errors, HTTP errors from this
// server, page exceptions). Optional; not part of `make test`. See e2e/README.md.
//
//   node e2e/web_app_tour.mjs http://127.0.0.1:8000 [/chat,/flow,...]
//
// GLIFIC_PHONE (default 917834811114, an Indian number: the login form's country is India)
// and GLIFIC_PASSWORD (default Secret1234!) sign in; CHROMIUM (default /usr/bin/chromium).
// Exits 1 when something broke, 2 when no URL was given.
import { chromium } from 'playwright-core';

const base = process.argv[2];
if (!base) {
  console.log('usage: node e2e/web_app_tour.mjs URL [comma-separated paths]  (skipped: no URL)');
  process.exit(2);
}
const phone = process.env.GLIFIC_PHONE || '917834811114';
const password = process.env.GLIFIC_PASSWORD || 'Secret1234!';
const paths = (process.argv[3] ||
  '/chat,/contact-profile,/collection,/flow,/staff-management,/settings/organization,/myaccount,/tag,/notifications'
).split(',');

const browser = await chromium.launch({
  executablePath: process.env.CHROMIUM || '/usr/bin/chromium',
  args: ['--no-sandbox'],
});
const page = await browser.newPage({ viewport: { width: 1400, height: 900 } });
const broken = [];
let where = '/login';
page.on('pageerror', (e) => {
  // Third-party scripts the app loads from the internet (Stripe) may be unreachable.
  if (!String(e).includes('Stripe')) broken.push(`${where}: page error: ${String(e).slice(0, 300)}`);
});
page.on('response', async (r) => {
  const url = r.url();
  if (!url.startsWith(base) || url.includes('/static/') || url.includes('/assets/')) return;
  if (r.status() >= 400) broken.push(`${where}: HTTP ${r.status()} ${r.request().method()} ${url}`);
  if (url.endsWith('/api') && r.request().method() === 'POST') {
    try {
      const body = await r.json();
      const op = JSON.parse(r.request().postData() || '{}').operationName;
      if (body.errors) broken.push(`${where}: ${op}: ${JSON.stringify(body.errors).slice(0, 300)}`);
    } catch {
      // not JSON: reported by its status above, if any
    }
  }
});

await page.goto(`${base}/login`);
await page.waitForSelector('input[type=tel]');
// The phone widget keeps its +91 prefix: type the rest, as a person does.
await page.click('input[type=tel]');
await page.keyboard.press('End');
await page.keyboard.type(phone.slice(2));
await page.fill('input[type=password]', password);
await page.click('[data-testid=SubmitButton]');
await page.waitForURL((url) => !url.pathname.startsWith('/login'), { timeout: 20000 });

for (const path of paths) {
  where = path;
  await page.goto(base + path);
  await page.waitForTimeout(4000);
  const text = (await page.innerText('body')).replace(/\s+/g, ' ');
  if (/Error ! Sorry, An error occurred|Something went wrong/.test(text)) {
    broken.push(`${path}: the page shows an error: ${text.slice(0, 200)}`);
  }
  console.log(`${path}: ${text.slice(0, 120)}`);
}
await browser.close();
if (broken.length) {
  console.log(`\n${broken.length} problem(s):\n${broken.join('\n')}`);
  process.exit(1);
}
console.log('\nno problems');
