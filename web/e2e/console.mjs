// The coordinator's console in Debian's chromium, against a Lightbox the Go
// test (cmd/lightbox/browser_test.go, TestConsoleInBrowser) started with
// the demo group:
//  1. Readers & shifts: the week calendar draws the demo roster; a licence
//     expiring in 20 days is added in the reader editor; a vacation is
//     recorded and shows on the calendar; a reader is added in the editor
//     with licence, privilege, malpractice and Medicare enrolment;
//  2. Credentials: the new licence shows on the 90-day timeline with the
//     reader's ICS feed;
//  3. Dashboard: the charts render from the day `simulate` recorded, the
//     critical-compliance and discrepancy panels render, every table's CSV
//     export equals the table, and "Simulate next week" shows predicted TAT
//     charts and breaches;
//  4. Board: the coordinator drags a study onto dr.alpha, gives a reason,
//     and it appears on dr.alpha's open worklist without a reload; the
//     reader added in the editor is named as able to cover an uncovered
//     Harbor Bay study; the protocol and unmatched queues are shown, an
//     order created over FHIR appears in the protocol queue and an
//     unmatched study is attached to it;
//  5. dr.alpha's shift tally in the top bar does not cover the reading
//     room's Send button;
//  6. a critical result dr.alpha opens is counted in the dashboard's
//     loop-compliance table, and a final dr.alpha signs over their prelim
//     with another impression in its discrepancy table; both CSVs equal
//     their tables;
//  7. dr.alpha rejects the queued order from their board.
// Screenshots go to $SHOTS.
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { checks, launch, signInCoordinator, signInReader, menuLink } from './browser.mjs';

const base = process.env.BASE_URL;
const shots = process.env.SHOTS || '/tmp';
const { log, check, fail, finish } = checks();
const day = (n) => new Date(Date.now() + n * 86400000).toISOString().slice(0, 10);
// parseCSV reads RFC 4180 (quoted fields, doubled quotes, CRLF lines)
const parseCSV = (text) => {
  const rows = [[]];
  let f = '';
  let q = false;
  for (let i = 0; i < text.length; i++) {
    const c = text[i];
    if (q && c === '"' && text[i + 1] === '"') { f += '"'; i++; } else if (c === '"') q = !q;
    else if (!q && c === ',') { rows.at(-1).push(f); f = ''; } else if (!q && c === '\r' && text[i + 1] === '\n') { rows.at(-1).push(f); f = ''; rows.push([]); i++; } else f += c;
  }
  if (f !== '' || rows.at(-1).length) rows.at(-1).push(f);
  return rows.filter((r) => r.length > 0);
};
const local = (ms) => {
  const d = new Date(ms);
  const p = (x) => String(x).padStart(2, '0');
  return `${d.getFullYear()}-${p(d.getMonth() + 1)}-${p(d.getDate())}T${p(d.getHours())}:${p(d.getMinutes())}`;
};

let page;
// exportEqualsTable downloads a dashboard table's CSV and compares it with
// the table on the page, cell for cell; a table with no rows is reported.
async function exportEqualsTable(label) {
  const button = page.getByRole('button', { name: `Export ${label} as CSV` });
  if (await button.isDisabled()) {
    log(`${label}: no rows in this range`);
    return 0;
  }
  const table = page.locator(`table[aria-label="${label}"]`);
  const cells = await table.locator('tr').evaluateAll((trs) => trs.map((tr) => [...tr.children].map((c) => c.textContent.trim())));
  const [download] = await Promise.all([page.waitForEvent('download'), button.click()]);
  const csv = parseCSV(readFileSync(await download.path(), 'utf8'));
  check(JSON.stringify(csv) === JSON.stringify(cells), `${label}: CSV export equals the table (${csv.length} lines)`);
  return csv.length - 1;
}

const coord = await launch();
const alpha = await launch();
try {
  page = coord.context.pages()[0] ?? (await coord.context.newPage());
  page.on('pageerror', (e) => log('page error:', e.message));
  await page.setViewportSize({ width: 1400, height: 900 });
  await signInCoordinator(page, base);
  const nav = page.getByRole('navigation', { name: 'Main' });

  // The top bar's menus work from the keyboard: ArrowDown opens one on its
  // first link, Escape closes it back onto its button.
  const quality = nav.getByRole('button', { name: 'Quality', exact: true });
  await quality.focus();
  await page.keyboard.press('ArrowDown');
  await page.waitForFunction(() => document.activeElement?.textContent === 'Dashboard');
  await page.keyboard.press('ArrowDown');
  const second = await page.evaluate(() => document.activeElement?.textContent);
  await page.keyboard.press('Escape');
  const closed = (await quality.getAttribute('aria-expanded')) === 'false' && (await page.evaluate(() => document.activeElement?.textContent?.startsWith('Quality')));
  check(second === 'Critical' && closed, `Quality menu by keyboard: ↓ Dashboard, ↓ ${second}, Escape closes onto its button`);

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

  // A reader added in the editor, with every credential eligibility needs
  // (MA licence, Harbor Bay privilege, malpractice, Medicare): the board
  // must then name them among those who could read Harbor Bay's studies.
  await page.getByRole('button', { name: 'Add reader' }).click();
  const add = page.getByRole('dialog', { name: 'Add reader' });
  await add.getByLabel('User name').fill('dr.e2e');
  await add.getByLabel('Name', { exact: true }).fill('Dr Editor');
  await add.getByLabel('State (where they read)').fill('MA');
  await add.getByRole('button', { name: 'Add licence' }).click();
  await add.getByLabel('Licence state').last().fill('MA');
  await add.getByLabel('Licence number').last().fill('MA-E2E-1');
  await add.getByRole('button', { name: 'Add privilege' }).click();
  const hbi = await add.getByLabel('Privilege facility').last().locator('option').evaluateAll((os) => os.find((o) => o.textContent.includes('Harbor Bay'))?.value);
  await add.getByLabel('Privilege facility').last().selectOption(hbi);
  await add.getByRole('button', { name: 'Add malpractice policy' }).click();
  await add.getByLabel('Malpractice carrier').last().fill('Group policy');
  check((await add.getByLabel('Malpractice states').last().inputValue()) === 'MA', 'the new policy covers the licensed states');
  await add.getByLabel('Enrolled with Medicare').check();
  if (!process.env.README_ONLY) await page.screenshot({ path: join(shots, 'reader-editor.png') });
  await add.getByRole('button', { name: 'Save' }).click();
  await add.waitFor({ state: 'hidden' });
  await page.locator('table[aria-label=Readers] tbody tr', { hasText: 'dr.e2e' }).first().waitFor();
  check(true, 'dr.e2e added in the reader editor');

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
  await page.locator('table[aria-label="Volume by facility"]').waitFor();
  await page.getByRole('heading', { name: 'Critical-result loop compliance' }).waitFor();
  await page.getByRole('heading', { name: 'Prelim → final discrepancies' }).waitFor();
  check(true, 'critical-result compliance and prelim→final discrepancy panels render');
  // the export of every table with rows equals the table, cell for cell
  for (const label of ['Volume by facility', 'TAT by priority', 'RVU per reader per shift', 'Critical-result compliance',
    'Prelim to final discrepancies', 'RADPEER peer review by month']) {
    await exportEqualsTable(label);
  }

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
  await signInReader(ap, base, 'dr.alpha');
  check(true, 'dr.alpha signed in');

  await nav.getByRole('link', { name: 'Board', exact: true }).click();
  const board = page.locator('table[data-testid=worklist] tbody tr');
  await board.first().waitFor();
  const online = page.locator('table[aria-label="Readers online"] tbody tr', { hasText: 'online' });
  await online.first().waitFor();
  check((await online.first().textContent()).includes('Dr Alpha'), 'dr.alpha is listed online beside the board with the queue in RVUs');
  const uncovered = page.getByRole('list', { name: 'Uncovered studies' }).locator('li');
  if ((await uncovered.count()) > 0) log('uncovered:', (await uncovered.first().textContent()).slice(0, 160));
  const hbiUncovered = uncovered.filter({ hasText: 'Harbor Bay' });
  if ((await hbiUncovered.count()) > 0) {
    await hbiUncovered.first().filter({ hasText: 'dr.e2e' }).waitFor({ timeout: 15000 });
    check(true, 'the reader added in the editor could cover an uncovered Harbor Bay study');
  } else {
    log('no uncovered Harbor Bay study to check dr.e2e against');
  }
  await page.getByRole('heading', { name: /Protocol queue/ }).waitFor();
  await page.getByRole('heading', { name: /Unmatched studies/ }).waitFor();
  check(true, 'the protocol queue and the unmatched-studies queue sit beside the board');
  // an order from Springfield (FHIR ServiceRequest) waits for its protocol
  const created = await page.evaluate(async (acc) => {
    const s = await (await fetch('/api/session')).json();
    const sr = {
      resourceType: 'ServiceRequest',
      contained: [{ resourceType: 'Patient', id: 'p1', identifier: [{ system: 'SGH-MRN', value: 'MRN-E2E-9' }],
        name: [{ family: 'Queue', given: ['Test'] }], gender: 'female', birthDate: '1970-01-01', address: [{ state: 'IL' }] }],
      identifier: [
        { type: { coding: [{ system: 'http://terminology.hl7.org/CodeSystem/v2-0203', code: 'ACSN' }] }, value: acc, assigner: { identifier: { value: 'SGH' } } },
        { type: { coding: [{ system: 'http://terminology.hl7.org/CodeSystem/v2-0203', code: 'PLAC' }] }, value: 'PL-' + acc }],
      status: 'active', intent: 'order', priority: 'urgent',
      code: { coding: [{ system: 'http://www.ama-assn.org/go/cpt', code: '70450', display: 'CT head wo contrast' }] },
      subject: { reference: '#p1' }, authoredOn: new Date().toISOString(), reasonCode: [{ text: 'headache' }],
    };
    const r = await fetch('/fhir/ServiceRequest', { method: 'POST', headers: { 'Content-Type': 'application/fhir+json', 'X-CSRF-Token': s.csrf_token }, body: JSON.stringify(sr) });
    const body = await r.text();
    let id = '';
    try {
      id = JSON.parse(body).id ?? '';
    } catch { /* reported below */ }
    return { status: r.status, body: body.slice(0, 300), id };
  }, 'ACC-E2E-PQ');
  if (created.status !== 201) log('ServiceRequest:', created.status, created.body);
  const queued = page.getByRole('list', { name: 'Orders awaiting protocol' }).locator('li', { hasText: 'ACC-E2E-PQ' });
  await queued.waitFor({ timeout: 20000 });
  check(true, 'a new order shows in the protocol queue');
  // a Springfield study that matched no order is attached to it
  const sgh = page.getByRole('list', { name: 'Unmatched studies' }).locator('li', { hasText: 'SGH' }).first();
  if (created.id && (await sgh.count()) > 0) {
    const unmatchedID = await sgh.getAttribute('data-unmatched');
    await sgh.getByRole('button', { name: 'Attach to order…' }).click();
    const att = page.getByRole('dialog', { name: 'Attach study to order' });
    await att.getByLabel('Order ID').fill(created.id);
    await att.getByRole('button', { name: 'Attach' }).click();
    await att.waitFor({ state: 'hidden' });
    await page.locator(`[data-unmatched="${unmatchedID}"]`).waitFor({ state: 'detached', timeout: 20000 });
    check(true, 'an unmatched Springfield study attached to the order left the unmatched queue');
  } else {
    log('no unmatched Springfield study (or order id) to attach:', created.id);
  }
  // the console beside the board (the board's table is the worklist's)
  // A full-page capture clipped to the console: an element screenshot
  // scrolls the page, and the readers table's sticky header would be drawn
  // over its rows at the scrolled-to offset.
  await page.evaluate(() => window.scrollTo(0, 0));
  const side = await page.locator('.board-side').boundingBox();
  await page.screenshot({ path: join(shots, 'board-console.png'), fullPage: true, clip: side });
  if (!process.env.README_ONLY) await page.screenshot({ path: join(shots, 'board.png') });
  // reassign: a study to dr.alpha (it must appear on their live worklist)
  // or, when none can go to them, dr.alpha's study to a colleague (it
  // must leave their live worklist)
  // to dr.alpha by dragging the row onto them; to others by picking
  const tryReassign = async (row, to) => {
    const uid = await row.getAttribute('data-study');
    const d = page.getByRole('dialog');
    if (to === 'dr.alpha') {
      await row.dragTo(page.locator('table[aria-label="Readers online"] tr[data-reader="dr.alpha"]'));
      await d.waitFor();
      check((await d.getByLabel('To reader').inputValue()) === 'dr.alpha', 'dropping a study on dr.alpha opens the reassign dialog for them');
    } else {
      await row.getByRole('button', { name: 'Reassign' }).click();
      await d.getByLabel('To reader').selectOption(to);
    }
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
    check(true, `a study dragged to dr.alpha and reassigned with a reason`);
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

  // 5. dr.alpha's shift tally sits in the top bar, clear of the reading
  // room chat's Send button (it used to cover it, fixed bottom-right)
  await ap.getByRole('navigation', { name: 'Main' }).getByRole('link', { name: 'Reading room' }).click();
  const send = ap.getByRole('button', { name: 'Send', exact: true }).first();
  await send.waitFor();
  const tally = await ap.getByLabel('This shift').boundingBox();
  const sendBox = await send.boundingBox();
  const apart = tally.x + tally.width <= sendBox.x || sendBox.x + sendBox.width <= tally.x || tally.y + tally.height <= sendBox.y || sendBox.y + sendBox.height <= tally.y;
  check(apart && tally.y < 60, `the shift tally (top bar, y ${Math.round(tally.y)}) does not cover Send (y ${Math.round(sendBox.y)})`);
  if (!process.env.README_ONLY) await ap.screenshot({ path: join(shots, 'reading-room-topbar.png') });

  // 6. dr.alpha opens a critical result on the study they were given; the
  // coordinator's dashboard then counts it in the loop-compliance table
  if (moved) {
    const opened = await ap.evaluate(async (uid) => {
      const s = await (await fetch('/api/session')).json();
      const r = await fetch('/api/critical', { method: 'POST', headers: { 'Content-Type': 'application/json', 'X-CSRF-Token': s.csrf_token },
        body: JSON.stringify({ study_uid: uid, category: '1', finding: { text: 'Tension pneumothorax, e2e' } }) });
      return `${r.status} ${(await r.text()).slice(0, 200)}`;
    }, moved);
    log('critical result:', opened.slice(0, 80));
    // a prelim, then a final whose impression differs: a discrepancy
    const signed = await ap.evaluate(async (uid) => {
      const s = await (await fetch('/api/session')).json();
      const sign = async (kind, impression) => {
        const r = await fetch(`/api/reports/studies/${encodeURIComponent(uid)}/sign`, { method: 'POST', headers: { 'Content-Type': 'application/json', 'X-CSRF-Token': s.csrf_token },
          body: JSON.stringify({ kind, content: { findings: 'Findings typed by the e2e test.', impression } }) });
        return `${r.status} ${(await r.text()).slice(0, 160)}`;
      };
      return [await sign('prelim', 'No acute abnormality.'), await sign('final', 'Small right pneumothorax.')];
    }, moved);
    log('prelim, final:', signed.join(' | '));
    await menuLink(page, 'Quality', 'Dashboard');
    await page.locator('table[aria-label="Critical-result compliance"] tbody tr').first().waitFor({ timeout: 15000 });
    check((await exportEqualsTable('Critical-result compliance')) > 0, 'the open critical result is counted in the loop-compliance table');
    if (signed.every((x) => x.startsWith('200'))) {
      await page.locator('table[aria-label="Prelim to final discrepancies"] tbody tr').first().waitFor({ timeout: 15000 });
      check((await exportEqualsTable('Prelim to final discrepancies')) > 0, 'the final that changed the prelim\'s impression is counted as a discrepancy');
    }
  }

  // 7. dr.alpha rejects the queued order from the board's protocol queue
  await ap.getByRole('navigation', { name: 'Main' }).getByRole('link', { name: 'Board', exact: true }).click();
  const mine = ap.getByRole('list', { name: 'Orders awaiting protocol' }).locator('li', { hasText: 'ACC-E2E-PQ' });
  await mine.waitFor({ timeout: 20000 });
  await mine.getByRole('button', { name: 'Reject…' }).click();
  const ret = ap.getByRole('dialog', { name: 'Reject order' });
  await ret.getByLabel('Reason').fill('duplicate of an order already scheduled');
  await ret.getByRole('button', { name: 'Reject' }).click();
  await ret.waitFor({ state: 'hidden' });
  await mine.waitFor({ state: 'detached', timeout: 20000 });
  check(true, 'dr.alpha rejected the order with a reason and it left the protocol queue');
} catch (e) {
  fail(e);
} finally {
  await finish(coord, alpha);
}
