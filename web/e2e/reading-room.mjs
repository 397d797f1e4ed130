// The reading room end to end in Debian's chromium, against a Lightbox the
// Go test (cmd/lightbox/browser_test.go) started with the demo group:
//  1. dr.alpha enrols TOTP in the browser (QR rendered locally) and is in;
//  2. a study sent with storescu appears on the open worklist without reload;
//  3. the case opens; a macro expands in the report; a critical result is
//     opened from the report and a call with read-back logged;
//  4. a second reader (dr.bravo) does not see dr.alpha's case;
//  5. sign final through the re-authentication dialog (the Go test then
//     checks the ORU^R01 at its MLLP listener);
//  6. logout leaves no patient data in browser storage.
// Screenshots go to $SHOTS.
import { spawnSync } from 'node:child_process';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { checks, launch, signInEnrolling as enrol } from './browser.mjs';
import { totp } from './totp.mjs';

const base = process.env.BASE_URL;
const shots = process.env.SHOTS || '/tmp';
const study = process.env.STUDY_UID;
const password = 'lightbox-demo-password';
const { log, check, failShot, finish } = checks();
const readme = ['login', 'worklist', 'case', 'critical'];
const shot = async (page, name) => {
  if (process.env.README_ONLY && !readme.includes(name)) return;
  await page.screenshot({ path: join(shots, `${name}.png`) });
};

const signInEnrolling = (page, user) => enrol(page, base, user, check);

const alpha = await launch();
const bravo = await launch();
try {
  const page = alpha.context.pages()[0] ?? (await alpha.context.newPage());
  page.on('pageerror', (e) => log('page error:', e.message));
  const csp = [];
  page.on('console', (m) => m.type() === 'error' && /Content Security Policy/.test(m.text()) && csp.push(m.text()));

  await page.goto(base + '/');
  await page.getByRole('button', { name: 'Sign in' }).waitFor();
  await shot(page, 'login');
  const a = await signInEnrolling(page, 'dr.alpha');
  await shot(page, 'enrol');
  await a.confirm();
  const signedInAt = Date.now(); // the server's --reauth-window (10 s) counts from this login

  // The worklist fills itself (presence heartbeat puts dr.alpha online).
  await page.getByRole('heading', { name: 'My worklist' }).waitFor();
  await page.locator('table[data-testid=worklist] tbody tr').first().waitFor({ timeout: 60000 });
  check(true, `worklist has ${await page.locator('table[data-testid=worklist] tbody tr').count()} cases`);

  // 2. A study arrives by DICOM while the page is open.
  await page.evaluate(() => (window.__sameDocument = true));
  const [cmd, ...args] = process.env.SEND_CMD.split('\x1f');
  const sent = spawnSync(cmd, args, { encoding: 'utf8' });
  check(sent.status === 0, `storescu sent ${args.length - 6} instances`);
  const sentAt = Date.now();
  const row = page.locator(`tr[data-study="${study}"]`);
  await row.waitFor({ timeout: 60000 });
  const shownAt = Date.now();
  log(`the sent study appeared ${((shownAt - sentAt) / 1000).toFixed(1)} s after storescu finished (quiet period 1 s)`);
  const lag = (shownAt - Date.parse(await row.getAttribute('data-updated'))) / 1000;
  check(lag <= 2, `on screen ${lag.toFixed(2)} s after the server assigned it (SSE; goal ≤ 2 s)`);
  check(await page.evaluate(() => window.__sameDocument === true), 'appeared without a reload');
  await shot(page, 'worklist');

  // 3. Open the case; write the report with a macro.
  await row.getByRole('button', { name: /^Open/ }).click();
  await page.waitForURL(/\/case\//);
  await page.getByRole('region', { name: 'Report' }).waitFor();
  await page.locator('.series-card img').first().waitFor({ timeout: 20000 });
  check(await page.locator('.series-card img').first().evaluate((img) => img.complete && img.naturalWidth > 0), 'key image rendered by /rendered');
  await page.getByLabel('Template').selectOption({ label: 'CT head without contrast' });
  check((await page.locator('textarea[name=technique]').inputValue()).length > 0, 'template filled the technique');
  const findings = page.locator('textarea[name=findings]');
  await findings.fill('Browser-typed finding 4242.');
  const impression = page.locator('textarea[name=impression]');
  await impression.fill('');
  await impression.pressSequentially('.noacute');
  await impression.press('F2');
  check((await impression.inputValue()) === 'No acute abnormality.', `macro expanded: ${JSON.stringify(await impression.inputValue())}`);
  await page.getByText(/Draft saved/).waitFor({ timeout: 10000 });
  const stored = await page.evaluate(() => Object.keys(localStorage));
  check(stored.some((k) => k.startsWith('lightbox.draft.')), 'draft kept in local storage while editing');
  await shot(page, 'case');

  // The draft survives a reload.
  await page.reload();
  await page.locator('textarea[name=findings]').waitFor();
  await page.waitForFunction(() => document.querySelector('textarea[name=findings]')?.value.includes('4242'));
  check(true, 'draft survives a reload');

  // Critical result from the report, with a call logged.
  await page.getByRole('button', { name: 'Critical…' }).click();
  const dlg = page.getByRole('dialog', { name: 'Critical result' });
  await dlg.getByLabel('Finding').fill('Acute subdural haematoma');
  await dlg.getByRole('button', { name: 'Open critical result' }).click();
  await dlg.getByTestId('critical-state').waitFor();
  await dlg.getByLabel('Name').fill('Dr Olivia Ordering');
  await dlg.getByLabel('Call-back').fill('(217) 555-0100');
  await dlg.getByLabel('read back').check();
  await dlg.getByRole('button', { name: 'Log call' }).click();
  await dlg.getByTestId('attempts').getByText(/reached, read back/).waitFor();
  check(true, 'critical result opened and the call logged with read-back');
  await shot(page, 'critical');
  await dlg.getByRole('button', { name: 'Done' }).click();

  // 4. A second reader does not see dr.alpha's case.
  const p2 = bravo.context.pages()[0] ?? (await bravo.context.newPage());
  const b = await signInEnrolling(p2, 'dr.bravo');
  await b.confirm();
  await p2.getByRole('heading', { name: 'My worklist' }).waitFor();
  await p2.waitForTimeout(1500); // one refresh of the live list
  check((await p2.locator(`tr[data-study="${study}"]`).count()) === 0, "dr.bravo's worklist does not show dr.alpha's case");
  const bravoOpen = await p2.evaluate(async (uid) => {
    const s = await (await fetch('/api/session')).json();
    return (await fetch(`/api/worklist/${encodeURIComponent(uid)}/open`, { method: 'POST', headers: { 'X-CSRF-Token': s.csrf_token } })).status;
  }, study);
  check(bravoOpen === 409 || bravoOpen === 404, `dr.bravo cannot open it (${bravoOpen})`);

  // 5. Sign final: the server asks for re-authentication once the window
  // since the login has passed (a quiet machine gets here sooner).
  const windowLeft = 10500 - (Date.now() - signedInAt);
  if (windowLeft > 0) await page.waitForTimeout(windowLeft);
  await page.getByRole('button', { name: 'Sign final' }).click();
  const re = page.getByRole('dialog', { name: 'Confirm it is you' });
  await re.waitFor();
  await re.getByLabel('Password').fill(password);
  const finalCode = totp(a.secret, Date.now() + 30000); // the next step: each code is used once
  await re.getByLabel('Authenticator code').fill(finalCode);
  await re.getByRole('button', { name: 'Confirm' }).click();
  await page.getByTestId('report-status').filter({ hasText: 'final' }).waitFor({ timeout: 15000 });
  check(true, 'signed final after re-authentication');
  await shot(page, 'signed');

  // An addendum on the signed report (re-authenticating again once the
  // short window has passed, with a code not used before), and its PDF.
  const addendumText = 'Addendum 4243: compared with the prior study.';
  await page.getByLabel('Addendum').fill(addendumText);
  await page.getByRole('button', { name: 'Sign addendum' }).click();
  const added = page.getByLabel('Signed report').getByText(addendumText);
  await Promise.race([added.waitFor({ timeout: 20000 }), re.waitFor({ timeout: 20000 })]);
  if (await re.isVisible()) {
    let code;
    while ((code = totp(a.secret, Date.now() + 30000)) === finalCode) await page.waitForTimeout(1000);
    await re.getByLabel('Password').fill(password);
    await re.getByLabel('Authenticator code').fill(code);
    await re.getByRole('button', { name: 'Confirm' }).click();
  }
  await added.waitFor({ timeout: 15000 });
  check(true, 'addendum signed and shown with the report');
  const pdfURL = await page.getByRole('link', { name: 'PDF' }).getAttribute('href');
  const pdf = await page.evaluate(async (u) => {
    const r = await fetch(u);
    return { status: r.status, type: r.headers.get('content-type') };
  }, pdfURL);
  check(pdf.status === 200 && pdf.type === 'application/pdf', `the report's PDF (${pdf.status} ${pdf.type})`);

  // The open critical loop stays in view on the worklist until closed.
  await page.getByRole('link', { name: 'Worklist' }).click();
  await page.getByRole('region', { name: 'Open critical results' }).getByText('Acute subdural haematoma').waitFor();
  check(true, 'the open critical loop is listed on the worklist after signing');

  // Station: a key binding saved on the server, the display and connection checks.
  await page.getByRole('link', { name: 'Station' }).click();
  await page.getByLabel('Key for Sign final').press('F9');
  await page.getByRole('button', { name: 'Save keys' }).click();
  await page.getByText('Saved.').waitFor();
  await page.reload();
  await page.waitForFunction(() => document.querySelector('input[aria-label="Key for Sign final"]')?.value === 'F9');
  check(true, 'key map saved on the server (F9 signs final after a reload)');
  for (const box of await page.getByRole('group', { name: 'What I see' }).getByRole('checkbox').all()) await box.check();
  await page.getByRole('button', { name: 'Record pass' }).click();
  await page.getByText(/Recorded: passed \(\d+×\d+, pixel ratio/).waitFor();
  check(true, 'display check recorded with the screen size and pixel ratio');
  await page.getByRole('button', { name: 'Measure' }).click();
  const speed = page.getByText(/Latency \d+ ms · download \d+ Mbit\/s/);
  await speed.waitFor({ timeout: 30000 });
  log('connection check:', await speed.textContent());
  await shot(page, 'station');

  // 6. Logout leaves nothing behind.
  await page.getByRole('button', { name: 'Sign out' }).click();
  await page.getByRole('button', { name: 'Sign in' }).waitFor();
  const left = await page.evaluate(async () => ({
    local: localStorage.length,
    session: sessionStorage.length,
    caches: (await caches.keys()).length,
    idb: (await indexedDB.databases()).length,
    text: document.body.innerText,
  }));
  check(left.local === 0 && left.session === 0 && left.caches === 0 && left.idb === 0, `browser storage empty after logout ${JSON.stringify({ ...left, text: undefined })}`);
  check(!left.text.includes('4242'), 'no report text on the page after logout');
  const after = await page.evaluate(async () => (await fetch('/api/worklist')).status);
  check(after === 401, `the API refuses the old session (${after})`);
  check(csp.length === 0, `no Content-Security-Policy violations ${csp.join(' | ')}`);
} catch (e) {
  await failShot(e, alpha, join(tmpdir(), 'lightbox-e2e-failure.png'));
} finally {
  await finish(alpha, bravo);
}
