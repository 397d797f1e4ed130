// The Group screen in Debian's chromium, against a Lightbox the Go test
// (cmd/lightbox/browser_test.go, TestGroupScreenInBrowser) started with the
// demo group: the administrator enrols TOTP and signs in, opens Group, sees
// the facilities, imports a CSV with one bad row and sees it rejected with
// its reason, and the gap map names what the new facility lacks: once the
// readers are privileged there (reader editor), the missing TX licence. Then, as
// privacy officer, Audit: who accessed a demo patient the administrator
// opened (DICOMweb metadata), with the CSV export equal to the table.
// Screenshots go to $SHOTS.
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { checks, launch, menuLink, signInReader } from './browser.mjs';

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
  await signInReader(page, base, 'admin');
  check(true, 'admin enrolled and signed in');

  await menuLink(page, 'Group', 'Group');
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

  // Privilege the demo readers at New Hope (TX) with TX malpractice cover
  // but no TX licence: the licence is then the one credential missing.
  await menuLink(page, 'Group', 'Readers & shifts');
  // The table renders from one fetch: once a row is there, all of them are.
  await page.locator('table[aria-label=Readers] tbody tr').first().waitFor();
  const readerIDs = await page.locator('table[aria-label=Readers] tbody tr td:first-child').evaluateAll((tds) => tds.map((td) => td.textContent.trim().split(/\s+/).pop()));
  for (const id of readerIDs) {
    await page.getByRole('button', { name: `Edit ${id}` }).click();
    const dlg = page.getByRole('dialog', { name: `Edit ${id}` });
    await dlg.getByRole('button', { name: 'Add privilege' }).click();
    await dlg.getByLabel('Privilege facility').last().selectOption('NEWHOPE');
    await dlg.getByRole('button', { name: 'Add malpractice policy' }).click();
    await dlg.getByLabel('Malpractice carrier').last().fill('Texas rider');
    await dlg.getByLabel('Malpractice states').last().fill('TX');
    await dlg.getByRole('button', { name: 'Save' }).click();
    await dlg.waitFor({ state: 'hidden' });
  }
  await menuLink(page, 'Group', 'Group');
  const licenceGap = page.getByRole('list', { name: 'Gaps' }).locator('li', { hasText: 'New Hope Imaging' }).filter({ hasText: /TX licen/ });
  await licenceGap.first().waitFor({ timeout: 15000 });
  log('gap:', await licenceGap.first().textContent());
  check(true, `with ${readerIDs.length} readers privileged there, the gap map names the missing TX licence`);

  // Audit: open a demo study (an access), then ask who accessed its patient.
  const opened = await page.evaluate(async () => {
    const r = await fetch('/dicomweb/studies?limit=1', { headers: { Accept: 'application/dicom+json' } });
    const s = (await r.json())[0];
    const v = (tag) => s[tag]?.Value?.[0] ?? '';
    const m = await fetch(`/dicomweb/studies/${v('0020000D')}/metadata`, { headers: { Accept: 'application/dicom+json' } });
    await fetch(`/api/studies/${v('0020000D')}/consults`); // a second kind of access: the study's consults
    return { uid: v('0020000D'), patient: v('00100020'), issuer: v('00100021'), status: m.status };
  });
  check(opened.status === 200 && opened.patient !== '', `opened a demo study (metadata ${opened.status})`);
  await menuLink(page, 'Admin', 'Audit');
  await page.getByRole('heading', { name: 'Audit' }).waitFor();
  await page.getByLabel('Issuer of patient ID').fill(opened.issuer);
  await page.getByLabel('Patient ID', { exact: true }).fill(opened.patient);
  await page.getByRole('button', { name: 'Show accesses' }).click();
  const audit = page.locator('table[aria-label="Patient accesses"]');
  await audit.waitFor();
  // asked again: the first question is itself on the record
  await page.getByRole('button', { name: 'Show accesses' }).click();
  await audit.locator('tbody tr', { hasText: 'Audit Log Used' }).first().waitFor();
  check(!page.url().includes(opened.patient) && page.url().endsWith('/audit'), 'the patient is not in the page URL');
  const mine = audit.locator('tbody tr', { hasText: 'admin' }).filter({ hasText: opened.uid });
  check((await mine.count()) >= 1, `the administrator's access is listed: ${(await mine.first().textContent()).slice(0, 120)}`);
  const auditRows = await audit.locator('tr').evaluateAll((trs) => trs.map((tr) => [...tr.children].map((c) => c.textContent)));
  const [dl] = await Promise.all([
    page.waitForEvent('download'),
    page.getByRole('button', { name: 'Export Patient accesses as CSV' }).click(),
  ]);
  check(dl.suggestedFilename() === 'patient-accesses.csv', 'the CSV file name carries no patient identifier');
  const field = (c) => (/[",\r\n]/.test(c) ? `"${c.replace(/"/g, '""')}"` : c);
  const auditCSV = readFileSync(await dl.path(), 'utf8').trimEnd().split('\r\n');
  check(JSON.stringify(auditCSV) === JSON.stringify(auditRows.map((r) => r.map(field).join(','))), `audit CSV equals the table (${auditCSV.length} lines)`);
  await page.screenshot({ path: join(shots, 'audit.png') });
} catch (e) {
  fail(e);
} finally {
  await finish(b);
}
