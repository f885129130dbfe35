// Drives a build of Glific's web app, served against this backend, in headless Chromium:
// signs in, opens each screen, and reports what broke (GraphQL errors, HTTP errors from this
// server, page exceptions). Optional; not part of `make test`. See e2e/README.md.
//
//   node e2e/web_app_tour.mjs http://127.0.0.1:8000 [/chat,/flow,...] [--walks]
//
// --walks then also uses six screens as a person would, writing data (each run makes its own
// collection, contacts and flows, named with the run's time stamp): the contact import dialog,
// the contact profile form, the flow editor (a Manage Profile node, publish, Preview), staff
// management, My Account, and flow export/import from the flow list. The staff walk edits
// the first user that is neither the signed-in one nor an admin, and puts its role back; with
// no such user it is skipped (`python -m app create-user --org glific --role staff ...`).
//
// GLIFIC_PHONE (default 917834811114, an Indian number: the login form's country is India)
// and GLIFIC_PASSWORD (default Secret1234!) sign in; CHROMIUM (default /usr/bin/chromium).
// Exits 1 when something broke, 2 when no URL was given.
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { chromium } from 'playwright-core';

const args = process.argv.slice(2).filter((a) => a !== '--walks');
const walks = process.argv.includes('--walks');
const base = args[0];
if (!base) {
  console.log('usage: node e2e/web_app_tour.mjs URL [comma-separated paths]  (skipped: no URL)');
  process.exit(2);
}
const phone = process.env.GLIFIC_PHONE || '917834811114';
const password = process.env.GLIFIC_PASSWORD || 'Secret1234!';
const paths = (args[1] ||
  '/chat,/contact-profile,/collection,/flow,/staff-management,/settings/organization,/myaccount,/tag,/notifications,' +
    '/template,/template/add,/speed-send,/speed-send/add'
).split(',');

const browser = await chromium.launch({
  executablePath: process.env.CHROMIUM || '/usr/bin/chromium',
  args: ['--no-sandbox'],
});
const page = await browser.newPage({ viewport: { width: 1400, height: 900 } });
const broken = [];
let where = '/login';
let stamp; // names what one --walks run creates
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
      const sent = JSON.parse(r.request().postData() || '{}');
      const op = sent.operationName;
      // The import dialog's collection picker sends the clicked <li>'s numeric `value` as the
      // label (`label: 0`) once a collection is picked; Glific (Absinthe) refuses it too.
      const pickerQuirk = op === 'groups' && typeof sent.variables?.filter?.label === 'number';
      if (body.errors && !pickerQuirk) {
        broken.push(`${where}: ${op}: ${JSON.stringify(body.errors).slice(0, 300)}`);
      }
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
if (walks) {
  const all = [importContacts, contactProfileForm, flowEditorProfiles, staffManagement, myAccount, speedSend, hsmTemplate];
  for (const walk of [...all, flowExportImport]) {
    where = `walk ${walk.name}`;
    try {
      console.log(`${where}: ${await walk()}`);
    } catch (e) {
      broken.push(`${where}: ${String(e).split('\n')[0].slice(0, 300)}`);
      await page.screenshot({ path: path.join(os.tmpdir(), `glific-e2e-${walk.name}.png`) }).catch(() => {});
    }
  }
}
await browser.close();
if (broken.length) {
  console.log(`\n${broken.length} problem(s):\n${broken.join('\n')}`);
  process.exit(1);
}
console.log('\nno problems');

// --- walks (--walks) ---------------------------------------------------------------------------

function check(ok, message) {
  if (!ok) throw new Error(message);
}

// A GraphQL call with the signed-in user's token, for setting up and checking what the UI did.
async function gql(query, variables = {}) {
  const body = await page.evaluate(
    async ([q, v]) => {
      const session = JSON.parse(localStorage.getItem('glific_session') || '{}');
      const r = await fetch('/api', {
        method: 'POST',
        headers: { 'content-type': 'application/json', authorization: session.access_token },
        body: JSON.stringify({ query: q, variables: v }),
      });
      return r.json();
    },
    [query, variables]
  );
  if (body.errors) throw new Error(`setup ${query.slice(0, 60)}: ${JSON.stringify(body.errors)}`);
  return body.data;
}

async function bodyText() {
  return (await page.innerText('body')).replace(/\s+/g, ' ');
}

async function waitForText(pattern, timeout = 15000) {
  await page.waitForFunction((p) => new RegExp(p).test(document.body.innerText), pattern.source, { timeout });
}

function runStamp() {
  stamp = stamp || String(Date.now()).slice(-8);
  return stamp;
}

// 1. Contacts > Import contacts: pick a collection, upload a CSV, see the contacts in it.
async function importContacts() {
  const s = runStamp();
  const label = `E2E import ${s}`;
  await gql('mutation($l: String!) { createGroup(input: {label: $l}) { group { id } } }', { l: label });
  const local = `9${s.slice(-7)}`; // + a two-digit suffix: a ten-digit Indian mobile number
  const phones = [`91${local}01`, `91${local}02`];
  const csv = path.join(os.tmpdir(), `glific-e2e-${s}.csv`);
  fs.writeFileSync(
    csv,
    `name,phone,language,opt_in,city\nE2E Asha ${s},+${phones[0]},Hindi,2024-03-09 12:34:25,Pune\n` +
      `E2E Ravi ${s},${phones[1]},English,2024-03-09 12:34:25,Delhi\n`
  );
  await page.goto(`${base}/contact-management`);
  await page.click('[data-testid=uploadContactsBtn]');
  const picker = page.locator('[role=dialog] input[role=combobox]').first();
  await picker.click();
  await picker.fill(label);
  await page.locator('[role=option]', { hasText: label }).first().click();
  await page.locator('[role=dialog] input[type=checkbox]').first().check();
  await page.setInputFiles('[data-testid=uploadcontacts]', csv);
  await page.locator('[role=dialog] button', { hasText: 'Upload' }).click();
  await waitForText(/Contact import is in progress/);
  await page.locator('button', { hasText: 'Go to notifications' }).click();
  await page.waitForURL(/\/notifications/);
  fs.unlinkSync(csv);
  const { contacts } = await gql(
    'query($p: String!) { contacts(filter: {phone: $p}, opts: {}) { id name groups { label } } }',
    { p: local }
  );
  const inGroup = contacts.filter((c) => c.groups.some((g) => g.label === label));
  check(inGroup.length === 2, `expected 2 contacts in "${label}", found ${JSON.stringify(contacts)}`);
  return `${inGroup.map((c) => c.name).join(', ')} imported into "${label}"`;
}

// 2. A contact's profile form: change its language, save, reload.
async function contactProfileForm() {
  const s = runStamp();
  const { contacts } = await gql('query($n: String!) { contacts(filter: {name: $n}, opts: {}) { id } }', {
    n: `E2E Asha ${s}`,
  });
  check(contacts.length === 1, 'the imported contact is missing (the import walk failed?)');
  const url = `${base}/contact-profile/${contacts[0].id}`;
  await page.goto(url);
  const language = page.locator('[role=combobox]').last();
  await waitForText(/Hindi/);
  await language.click();
  await page.locator('[role=option]', { hasText: 'English' }).first().click();
  await page.locator('[data-testid=submitActionButton]').first().click();
  await waitForText(/Contact edited successfully/);
  await page.goto(url);
  await page.waitForTimeout(3000);
  const now = (await language.innerText()).trim();
  check(now === 'English', `after saving and reloading the language shows "${now}", not English`);
  return 'language Hindi -> English kept after reload';
}

async function dragFromExit(endpoint, dx, dy) {
  const box = await endpoint.boundingBox();
  const x = box.x + box.width / 2;
  const y = box.y + box.height / 2;
  await page.mouse.move(x, y);
  await page.mouse.down();
  for (let i = 1; i <= 10; i++) await page.mouse.move(x + (dx * i) / 10, y + (dy * i) / 10);
  await page.mouse.up();
  await page.waitForSelector('[role=dialog] [data-testid=temba_select_type]');
}

function exitOf(nodeText, exitName) {
  const node = page.locator('[class*=Node_node_container]', { hasText: nodeText }).last();
  const exits = node.locator('[class*=Exit_exit]', exitName ? { hasText: exitName } : {});
  return exits.first().locator('[class*=Exit_endpoint]').first();
}

async function editorOk() {
  await page.locator('[role=dialog] div', { hasText: /^Ok$/ }).last().click();
  await page.waitForTimeout(1500);
}

async function typeInCompletion(name, value) {
  const field = page.locator(`[role=dialog] temba-completion[name="${name}"]`);
  await field.locator('textarea, input:not([type=hidden])').first().click();
  await page.keyboard.type(value);
}

// 3. The flow editor: a Send Message, then a Manage Profile (Create Profile) node with a reply
// on Success; publish from the editor; Preview runs it in the simulator.
async function flowEditorProfiles() {
  const s = runStamp();
  const { createFlow } = await gql(
    'mutation($n: String!, $k: [String]) { createFlow(input: {name: $n, keywords: $k}) { flow { uuid } } }',
    { n: `E2E profile ${s}`, k: [`e2e${s}`] }
  );
  await page.setViewportSize({ width: 1400, height: 1400 });
  await page.goto(`${base}/flow/configure/${createFlow.flow.uuid}`);
  await page.click('text=Create Message', { timeout: 30000 });
  await page.locator('[role=dialog] temba-completion textarea').first().click();
  await page.keyboard.type('E2E start');
  await editorOk();
  await dragFromExit(exitOf('E2E start'), 0, 200);
  await page.click('[role=dialog] [data-testid=temba_select_type]');
  await page.locator('temba-options .option', { hasText: 'Manage profile' }).first().click();
  await typeInCompletion('Name', `E2E child ${s}`);
  await typeInCompletion('Type', 'student');
  await editorOk();
  await dragFromExit(exitOf('Creating profile', 'Success'), -100, 200);
  await page.locator('[role=dialog] temba-completion textarea').first().click();
  await page.keyboard.type('E2E profile created');
  await editorOk();
  await page.waitForTimeout(2500); // the editor saves a revision a second after the last edit
  await page.click('[data-testid=button]:has-text("Publish")');
  await page.locator('button', { hasText: 'Publish & stay' }).click();
  await waitForText(/The flow has been published/);
  await page.click('[data-testid=previewButton]');
  await waitForText(/E2E profile created/, 30000);
  await page.setViewportSize({ width: 1400, height: 900 });
  return 'Manage Profile node saved, published, and the simulator replied "E2E profile created"';
}

// 4. Staff management: change a user's role, save, check; then put it back.
async function staffManagement() {
  const me = JSON.parse(await page.evaluate(() => localStorage.getItem('glific_user')));
  const { users } = await gql('{ users(filter: {}, opts: {}) { id name roles } }');
  const staffLike = (u) => u.roles.every((r) => r === 'Staff' || r === 'Manager');
  const user = users.find((u) => u.id !== String(me.id) && staffLike(u));
  if (!user) return 'skipped: no Staff or Manager user besides the signed-in one';
  const from = user.roles[0] || 'Staff';
  const to = from === 'Staff' ? 'Manager' : 'Staff';
  for (const role of [to, from]) {
    await page.goto(`${base}/staff-management/${user.id}/edit`);
    const roles = page.locator('input[role=combobox]').first();
    await page.waitForFunction((n) => document.querySelector('input[name=name]')?.value === n, user.name);
    await roles.click();
    await page.locator('[role=option]', { hasText: new RegExp(`^${role}$`) }).first().click();
    await page.locator('[data-testid=submitActionButton]').first().click();
    await waitForText(/edited successfully/);
    const query = 'query($id: ID!) { user(id: $id) { user { roles } } }';
    const { user: saved } = await gql(query, { id: user.id });
    check(saved.user.roles.includes(role), `${user.name}: role ${role} not saved (${saved.user.roles})`);
  }
  return `${user.name}: ${from} -> ${to} -> ${from} saved`;
}

// 5. My Account: switch the interface language and back (name and phone are read-only there).
async function myAccount() {
  await page.goto(`${base}/myaccount`);
  await page.waitForSelector('[data-testid=MyAccount]');
  const language = page.locator('[role=combobox]').last();
  await language.click();
  const options = await page.locator('[role=option]').allInnerTexts();
  await page.keyboard.press('Escape');
  // The list holds the organization's languages marked `localized` (Glific: English, Hindi).
  check(options.length > 1, `My Account: the interface languages offered are [${options}]`);
  const before = (await language.innerText()).trim();
  const other = options.find((o) => o !== before);
  for (const choice of [other, before]) {
    await language.click();
    await page.locator('[role=option]', { hasText: choice }).first().click();
    await waitForText(/Language changed successfully|भाषा/);
    await page.waitForTimeout(1000);
  }
  return `interface language ${before} -> ${other} -> ${before}`;
}

// 6. The flow list: export a flow, import it back under a new name, uuid and keyword.
async function flowExportImport() {
  const s = runStamp();
  const name = `E2E profile ${s}`;
  await page.goto(`${base}/flow`);
  const row = page.locator('tr', { hasText: name }).first();
  await row.locator('[data-testid=MoreIcon]').click();
  const download = page.waitForEvent('download');
  await page.locator('[data-testid=export-icon]').first().click();
  const file = path.join(os.tmpdir(), `glific-e2e-flow-${s}.json`);
  await (await download).saveAs(file);
  await page.keyboard.press('Escape');
  const exported = JSON.parse(fs.readFileSync(file, 'utf8'));
  const held = JSON.stringify(exported).slice(0, 200);
  check(exported.flows?.[0]?.definition?.name === name, `the export holds ${held}`);
  const oldUuid = exported.flows[0].definition.uuid;
  const copy = JSON.parse(JSON.stringify(exported).split(oldUuid).join(`00000000-0000-4000-8000-0000${s}`));
  copy.flows[0].definition.name = `${name} imported`;
  copy.flows[0].keywords = [`e2ei${s}`];
  fs.writeFileSync(file, JSON.stringify(copy));
  await page.setInputFiles('[data-testid=import]', file);
  await waitForText(/Import flow Status/);
  const status = (await bodyText()).match(/Import flow Status(.*?)Okay/)?.[1]?.trim();
  fs.unlinkSync(file);
  check(/Successfully imported/.test(status || ''), `import answered: ${status}`);
  await page.locator('button', { hasText: 'Okay' }).click();
  return `exported "${name}", imported a copy: ${status}`;
}

// 7. Speed sends: a saved reply written in its form, then in the list.
async function speedSend() {
  const s = runStamp();
  const label = `E2E reply ${s}`;
  const body = 'Good morning! Today we draw.';
  await page.goto(`${base}/speed-send/add`);
  await page.locator('input[name=label]').fill(label);
  await page.locator('[contenteditable=true]').first().click();
  await page.keyboard.type(body);
  await page.locator('[data-testid=submitActionButton]').first().click();
  await page.waitForURL(/\/speed-send$/, { timeout: 15000 });
  await waitForText(new RegExp(label));
  const { sessionTemplates } = await gql(
    'query($l: String!) { sessionTemplates(filter: {label: $l}, opts: {}) { label body isHsm } }',
    { l: label }
  );
  check(
    sessionTemplates.length === 1 && sessionTemplates[0].body === body && !sessionTemplates[0].isHsm,
    `expected the speed send "${label}", found ${JSON.stringify(sessionTemplates)}`
  );
  return `"${label}" saved from the form and shown in the list`;
}

// 8. HSM templates: a new template written in its form (language, element name, title,
// message, category), then in the list as waiting for the provider's approval.
async function hsmTemplate() {
  const s = runStamp();
  const label = `E2E nudge ${s}`;
  const shortcode = `e2e_nudge_${s}`;
  await page.goto(`${base}/template/add`);
  const language = page.locator('[role=combobox]').first();
  await language.click();
  await page.locator('[role=option]', { hasText: 'English' }).first().click();
  await page.locator('input[name=newShortcode]').fill(shortcode);
  await page.locator('input[name=label]').fill(label);
  await page.locator('[contenteditable=true]').first().click();
  await page.keyboard.type('Good morning! Today we draw.');
  const category = page.locator('input[placeholder=Category]').first();
  await category.click();
  await page.locator('[role=option]', { hasText: 'UTILITY' }).first().click();
  await page.locator('[data-testid=submitActionButton]').first().click();
  await page.waitForURL(/\/template$/, { timeout: 15000 });
  const { sessionTemplates } = await gql(
    'query($l: String!) { sessionTemplates(filter: {label: $l}, opts: {}) { shortcode isHsm status category body } }',
    { l: label }
  );
  const [made] = sessionTemplates;
  check(
    sessionTemplates.length === 1 && made.isHsm && made.shortcode === shortcode && made.category === 'UTILITY',
    `expected the HSM template "${label}", found ${JSON.stringify(sessionTemplates)}`
  );
  return `"${label}" saved from the form, ${made.status} until its provider id is recorded`;
}
