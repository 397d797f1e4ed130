// The Group screen in Debian's chromium, against a Lightbox the Go test
// (cmd/lightbox/browser_test.go, TestGroupScreenInBrowser) started with the
// demo group: the administrator enrols TOTP and signs in, opens Group, sees
// the facilities, imports a CSV with one bad row and sees it rejected with
// its reason, and the gap map names what the new facility lacks.
// Screenshots go to $SHOTS.
import { join } from 'node:path';
import { checks, launch } from './browser.mjs';
import { totp } from './totp.mjs';

const base = process.env.BASE_URL;
const shots = process.env.SHOTS || '/tmp';
const { log, check, fail, finish } = checks();

const csv = [
  'id,name,state,timezone,issuer_of_patient_id,read_type,medicare',
  'NEWHOPE,New Hope Imaging,TX,America/Chicago,,,',
  'BADZONE,Bad Zone Clinic,TX,Mars/Olympus,,,',
].join('\n') + '\n';

const b = await launch();
try {
  const page = b.context.pages()[0] ?? (await b.context.newPage());
  page.on('pageerror', (e) => log('page error:', e.message));
  await page.goto(base + '/login');
  await page.getByLabel('User name').fill('admin');
  await page.getByLabel('Password').fill('lightbox-demo-password');
  await page.getByRole('button', { name: 'Sign in' }).click();
  const secretEl = page.getByTestId('totp-secret');
  await secretEl.waitFor();
  await page.getByLabel('Code from the app').fill(totp((await secretEl.textContent()).trim()));
  await page.getByRole('button', { name: 'Confirm and sign in' }).click();
  await page.getByTestId('whoami').waitFor();
  check(true, 'admin enrolled and signed in');

  await page.getByRole('navigation', { name: 'Main' }).getByRole('link', { name: 'Group' }).click();
  await page.getByRole('heading', { name: 'Group' }).waitFor();
  const facRows = page.locator('table[aria-label=Facilities] tbody tr');
  await facRows.first().waitFor();
  const before = await facRows.count();
  check(before > 0, `facilities table lists ${before} facilities`);
  check((await page.getByRole('link', { name: 'Export CSV' }).getAttribute('href')).includes('/api/facilities/export'), 'export link');
  const map = page.locator('table[aria-label="Coverage gap map"] tbody tr');
  await map.first().waitFor();
  check((await map.first().locator('td').count()) === 24, 'gap map rows have 24 hour cells');

  await page.getByTestId('import-file').setInputFiles({ name: 'facilities.csv', mimeType: 'text/csv', buffer: Buffer.from(csv) });
  const report = page.getByTestId('import-report');
  await report.waitFor();
  const text = await report.textContent();
  check(text.includes('1 of 2 rows accepted'), `import report: ${text.slice(0, 60)}`);
  const rej = report.locator('tbody tr');
  check((await rej.count()) === 1, 'one rejected row');
  const rejText = await rej.first().textContent();
  check(rejText.includes('BADZONE') && rejText.includes('3'), `the rejected row is named with its line and reason: ${rejText}`);
  await page.waitForFunction((n) => document.querySelectorAll('table[aria-label=Facilities] tbody tr').length === n + 1, before);
  check(true, 'the new facility is in the table');
  const gap = page.getByRole('list', { name: 'Gaps' }).locator('li', { hasText: 'New Hope Imaging' });
  await gap.first().waitFor();
  log('gap:', await gap.first().textContent());
  check(/privilege|licen/i.test(await gap.first().textContent()), 'the gap list names the credential the new facility lacks');
  await page.getByRole('heading', { name: 'Coverage, next 24 h' }).scrollIntoViewIfNeeded();
  await page.screenshot({ path: join(shots, 'group.png') });
} catch (e) {
  fail(e);
} finally {
  await b.close();
}
finish();
