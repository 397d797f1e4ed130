// The coordinator's console in Debian's chromium, against a Lightbox the Go
// test (cmd/lightbox/browser_test.go, TestConsoleInBrowser) started with
// the demo group:
//  1. Readers & shifts: the week calendar draws the demo roster; a licence
//     expiring in 20 days is added in the reader editor; a vacation is
//     recorded and shows on the calendar;
//  2. Credentials: the new licence shows on the 90-day timeline with the
//     reader's ICS feed;
//  3. Dashboard: the volume chart renders from today's demo studies, CSV
//     export equals the table, and "Simulate next week" shows predicted TAT
//     charts and breaches;
//  4. Board: the coordinator reassigns a study to dr.alpha with a reason and
//     it appears on dr.alpha's open worklist without a reload.
// Screenshots go to $SHOTS.
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { checks, launch, signInCoordinator, menuLink } from './browser.mjs';
import { totp } from './totp.mjs';

const base = process.env.BASE_URL;
const shots = process.env.SHOTS || '/tmp';
const { log, check, fail, finish } = checks();
const day = (n) => new Date(Date.now() + n * 86400000).toISOString().slice(0, 10);
const local = (ms) => {
  const d = new Date(ms);
  const p = (x) => String(x).padStart(2, '0');
  return `${d.getFullYear()}-${p(d.getMonth() + 1)}-${p(d.getDate())}T${p(d.getHours())}:${p(d.getMinutes())}`;
};

const coord = await launch();
const alpha = await launch();
try {
  const page = coord.context.pages()[0] ?? (await coord.context.newPage());
  page.on('pageerror', (e) => log('page error:', e.message));
  await page.setViewportSize({ width: 1400, height: 900 });
  await signInCoordinator(page, base);
  const nav = page.getByRole('navigation', { name: 'Main' });

  // 1. Readers & shifts
  await menuLink(page, 'Group', 'Readers & shifts');
  const calRows = page.locator('[aria-label="Week calendar"] .cal-row[data-reader]');
  await calRows.first().waitFor();
  const nReaders = await calRows.count();
  check(nReaders > 0, `week calendar lists ${nReaders} readers`);
  check((await page.locator('.cal-bar.nighthawk, .cal-bar.dayhawk, .cal-bar.swing').count()) > 0, 'the calendar draws on-duty shifts');
  const readerRows = page.locator('table[aria-label=Readers] tbody tr');
  await readerRows.first().waitFor();
  const first = await readerRows.first().locator('td').first().textContent();
  const id = first.trim().split(/\s+/).pop();
  await page.getByRole('button', { name: `Edit ${id}` }).click();
  const dlg = page.getByRole('dialog', { name: `Edit ${id}` });
  await dlg.waitFor();
  await dlg.getByRole('button', { name: 'Add licence' }).click();
  await dlg.getByLabel('Licence state').last().fill('WY');
  await dlg.getByLabel('Licence number').last().fill('WY-E2E-7');
  await dlg.getByLabel('Licence expires').last().fill(day(20));
  await dlg.getByRole('button', { name: 'Save' }).click();
  await dlg.waitFor({ state: 'hidden' });
  await page.locator('table[aria-label=Readers] tbody tr', { hasText: id }).filter({ hasText: ' WY' }).first().waitFor();
  check(true, `${id} now holds a WY licence`);

  const form = page.getByRole('form', { name: 'One-off change' });
  await form.getByLabel('Kind').selectOption('vacation');
  await form.getByLabel('Reader').selectOption(id);
  const t0 = Date.now() + 26 * 3600000;
  await form.getByLabel('From').fill(local(t0));
  await form.getByLabel('To').fill(local(t0 + 48 * 3600000));
  await form.getByRole('button', { name: 'Record' }).click();
  await form.getByRole('status').waitFor();
  await page.locator(`.cal-row[data-reader="${id}"] [data-testid=away]`).first().waitFor();
  check(true, `the vacation of ${id} shows on the calendar`);
  await page.screenshot({ path: join(shots, 'calendar.png') });

  // 2. Credentials
  await menuLink(page, 'Group', 'Credentials');
  const row = page.getByRole('listitem').filter({ has: page.locator('[data-testid=lapse][title*="WY-E2E-7"]') });
  await row.first().waitFor();
  const title = await row.first().locator('[data-testid=lapse][title*="WY-E2E-7"]').getAttribute('title');
  check(/20 days|19 days/.test(title), `the expiring licence is on the timeline: ${title}`);
  check((await row.first().getByRole('link', { name: 'ICS feed' }).getAttribute('href')).endsWith('/calendar.ics'), 'the reader\'s ICS feed is linked');
  await page.screenshot({ path: join(shots, 'credentials.png') });

  // 3. Dashboard
  await menuLink(page, 'Quality', 'Dashboard');
  await page.getByRole('heading', { name: 'Dashboard' }).waitFor();
  await page.locator('figure[aria-label^="Studies per hour"] canvas').first().waitFor();
  check(true, 'the volume chart renders (canvas)');
  await page.locator('figure[aria-label^="First-read TAT"] canvas').waitFor();
  const tatRows = await page.locator('table[aria-label="TAT by priority"] tbody tr').count();
  check(tatRows > 0, `TAT by priority against SLA from the simulated day: ${tatRows} priorities`);
  await page.locator('figure[aria-label^="Work RVU per hour"] canvas').waitFor();
  check((await page.locator('table[aria-label="RVU per reader per shift"] tbody tr').count()) > 0, 'RVU per reader per shift renders');
  const vol = page.locator('table[aria-label="Volume by facility"]');
  await vol.waitFor();
  const tableRows = await vol.locator('tr').evaluateAll((trs) => trs.map((tr) => [...tr.children].map((c) => c.textContent.trim()).join(',')));
  const [download] = await Promise.all([
    page.waitForEvent('download'),
    page.getByRole('button', { name: 'Export Volume by facility as CSV' }).click(),
  ]);
  const csv = readFileSync(await download.path(), 'utf8').trimEnd().split('\r\n');
  check(JSON.stringify(csv) === JSON.stringify(tableRows), `CSV export equals the table (${csv.length} lines)`);

  await page.getByRole('button', { name: 'Simulate next week' }).click();
  const sim = page.getByTestId('sim-result');
  const simPanel = page.locator('section', { has: page.getByRole('heading', { name: 'Next 7 days, simulated' }) });
  await sim.or(simPanel.getByRole('alert')).first().waitFor({ timeout: 120000 });
  if (await simPanel.getByRole('alert').count()) log('simulate refused:', await simPanel.getByRole('alert').textContent());
  const simCharts = await sim.locator('canvas').count();
  check(simCharts >= 2, `simulated TAT renders as charts (${simCharts} canvases)`);
  const simRows = await sim.locator('table[aria-label="Predicted TAT by priority"] tbody tr').count();
  check(simRows > 0, `predicted TAT per priority: ${simRows} rows`);
  log('simulated:', (await sim.locator('.kpis').textContent()).replace(/\s+/g, ' '));
  await page.getByRole('heading', { name: 'Dashboard' }).scrollIntoViewIfNeeded();
  // the charts and the simulation, cut to keep the README's PNG small
  await page.screenshot({ path: join(shots, 'dashboard.png'), fullPage: true, clip: { x: 0, y: 0, width: 1400, height: 1120 } });

  // 4. Reassign to dr.alpha, seen live on dr.alpha's worklist
  const ap = alpha.context.pages()[0] ?? (await alpha.context.newPage());
  await ap.goto(base + '/login');
  await ap.getByLabel('User name').fill('dr.alpha');
  await ap.getByLabel('Password').fill('lightbox-demo-password');
  await ap.getByRole('button', { name: 'Sign in' }).click();
  const secretEl = ap.getByTestId('totp-secret');
  await secretEl.waitFor();
  await ap.getByLabel('Code from the app').fill(totp((await secretEl.textContent()).trim()));
  await ap.getByRole('button', { name: 'Confirm and sign in' }).click();
  await ap.getByTestId('whoami').waitFor();
  check(true, 'dr.alpha signed in');

  await nav.getByRole('link', { name: 'Board', exact: true }).click();
  const board = page.locator('table[data-testid=worklist] tbody tr');
  await board.first().waitFor();
  const online = page.locator('table[aria-label="Readers online"] tbody tr', { hasText: 'online' });
  await online.first().waitFor();
  check((await online.first().textContent()).includes('Dr Alpha'), 'dr.alpha is listed online beside the board with the queue in RVUs');
  const uncovered = page.getByRole('list', { name: 'Uncovered studies' }).locator('li');
  if ((await uncovered.count()) > 0) log('uncovered:', (await uncovered.first().textContent()).slice(0, 160));
  if (!process.env.README_ONLY) await page.screenshot({ path: join(shots, 'board-console.png') });
  // reassign: a study to dr.alpha (it must appear on their live worklist)
  // or, when none can go to them, dr.alpha's study to a colleague (it
  // must leave their live worklist)
  const tryReassign = async (row, to) => {
    const uid = await row.getAttribute('data-study');
    await row.getByRole('button', { name: 'Reassign' }).click();
    const d = page.getByRole('dialog');
    await d.getByLabel('To reader').selectOption(to);
    await d.getByLabel('Reason').fill('covering a colleague on break');
    await d.getByRole('button', { name: 'Reassign' }).click();
    try {
      await d.waitFor({ state: 'hidden', timeout: 5000 });
      return uid;
    } catch {
      log('reassign to', to, 'refused:', await d.getByRole('alert').textContent().catch(() => 'no alert'));
      await d.getByRole('button', { name: 'Cancel' }).click();
      return '';
    }
  };
  const rowsNow = async () => board.evaluateAll((trs) => trs.map((tr) => [tr.getAttribute('data-study'), tr.textContent.includes('dr.alpha')]));
  let moved = '';
  for (const [uid, mine] of await rowsNow()) {
    if (mine || moved) continue;
    moved = await tryReassign(page.locator(`table[data-testid=worklist] tbody tr[data-study="${uid}"]`), 'dr.alpha');
  }
  if (moved) {
    check(true, `a study reassigned to dr.alpha with a reason`);
    await ap.locator(`table[data-testid=worklist] tbody tr[data-study="${moved}"]`).waitFor({ timeout: 15000 });
    check(true, 'it appears on dr.alpha\'s live worklist');
  } else {
    const mineRow = (await rowsNow()).find(([, mine]) => mine);
    check(!!mineRow, 'dr.alpha holds a study to move away');
    await ap.locator(`table[data-testid=worklist] tbody tr[data-study="${mineRow[0]}"]`).waitFor({ timeout: 15000 });
    for (const to of ['dr.bravo', 'dr.delta', 'dr.sydney']) {
      if (moved) break;
      moved = await tryReassign(page.locator(`table[data-testid=worklist] tbody tr[data-study="${mineRow[0]}"]`), to);
      if (moved) log('moved to', to);
    }
    check(moved !== '', 'dr.alpha\'s study reassigned to a colleague with a reason');
    await ap.locator(`table[data-testid=worklist] tbody tr[data-study="${moved}"]`).waitFor({ state: 'detached', timeout: 15000 });
    check(true, 'it leaves dr.alpha\'s live worklist');
  }
} catch (e) {
  fail(e);
} finally {
  await coord.close();
  await alpha.close();
}
finish();
