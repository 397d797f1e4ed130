// MPR, hanging protocols and viewer windows in Debian's chromium, against a
// Lightbox the Go test (cmd/lightbox/viewer_mpr_test.go) started with a
// generated CT volume and a mammogram with a prior of the same patient:
//  1. MPR of the CT: three volume viewports whose view planes are axial,
//     coronal and sagittal, every one showing a non-blank image once the
//     volume has loaded; a 20 mm slab turns them into a MIP and changes the
//     pixels;
//  2. the mammography hanging: RCC, LCC, RMLO, LMLO of the current study
//     over the prior's (8 panes, one image each);
//  3. the MR brain hanging: T1, T2, FLAIR and DWI in a 2×2 (the Go test
//     adds the FLAIR and DWI series to a generated T1/T2 study);
//  4. a viewer window (/viewer?monitor=1) in the same browser profile hangs
//     the case the case window opens without a second login, and clears
//     when the case is left.
// Screenshots go to $SHOTS.
import { join } from 'node:path';
import { canvasStatsOf, checks, drawnStats, launch, signInReader } from './browser.mjs';

const base = process.env.BASE_URL;
const shots = process.env.SHOTS || '/tmp';
const want = JSON.parse(process.env.EXPECT); // {ct, ctSlices, mg, mgPrior, mgViews:{sop: view}, mr:{study, series:{label: uid}}}
const { log, check, failShot, finish } = checks();
// The README pictures: the viewer area only, small.
const shot = (page, name, testid) => page.getByTestId(testid).screenshot({ path: join(shots, `${name}.png`) });
const caseURL = (uid) => `${base}/case/${encodeURIComponent(uid)}`;
const pane = (page, i) => page.evaluate((i) => window.__lightboxViewer?.pane(i), i);

const b = await launch();
try {
  const page = b.context.pages()[0] ?? (await b.context.newPage());
  page.setDefaultTimeout(60000);
  page.on('pageerror', (e) => log('page error:', e.message));
  await signInReader(page, base, 'dr.alpha');

  // 4 (first half). A viewer window opened before the case: no login.
  const win = await b.context.newPage();
  await win.goto(`${base}/viewer?monitor=1`);
  await win.getByTestId('viewer-window').waitFor();
  check(win.url().includes('/viewer'), 'viewer window opened without a second login');

  // 1. MPR.
  await page.goto(caseURL(want.ct));
  await page.waitForFunction(() => window.__lightboxViewer?.pane(0)?.rows > 0, null, { timeout: 60000 });
  const t0 = Date.now();
  await page.getByRole('button', { name: 'MPR', exact: true }).click();
  await page.waitForFunction(() => window.__lightboxMpr && window.__lightboxMpr.loaded() === window.__lightboxMpr.total
    && window.__lightboxMpr.views().every((v) => v.actors > 0), null, { timeout: 60000 });
  await page.waitForTimeout(500);
  log(`MPR of ${want.ctSlices} slices loaded in ${Date.now() - t0} ms`);
  const views = await page.evaluate(() => window.__lightboxMpr.views());
  const axis = (n) => (n ? n.map((x) => Math.round(Math.abs(x))).join(',') : 'none');
  const planes = Object.fromEntries(views.map((v) => [v.label, axis(v.normal)]));
  check(planes.Axial === '0,0,1' && planes.Coronal === '0,1,0' && planes.Sagittal === '1,0,0', `three orientations: ${JSON.stringify(planes)}`);
  const thin = {};
  for (const v of views) {
    // Software WebGL on a busy 2-core machine can take seconds to draw the
    // first frame after the volume loaded: wait for it (up to 20 s).
    const s = await drawnStats(page, `[data-testid=${v.id}] canvas`);
    thin[v.id] = s;
    check(s && s.sd > 5, `${v.label}: ${s?.width}×${s?.height}, mean ${s?.mean.toFixed(1)}, sd ${s?.sd.toFixed(1)}`);
  }
  await page.getByLabel('Slab thickness').selectOption('20');
  await page.waitForFunction(() => window.__lightboxMpr.views().every((v) => v.slab === 20), null, { timeout: 5000 });
  // The slab re-renders asynchronously (software WebGL): wait for the
  // axial view's pixels to change (up to 20 s).
  let thick = null;
  for (let i = 0; i < 40; i++) {
    await page.waitForTimeout(500);
    thick = await canvasStatsOf(page, '[data-testid=mpr-axial] canvas');
    if (thick && thick.hash !== thin['mpr-axial'].hash) break;
  }
  const mip = await page.evaluate(() => window.__lightboxMpr.views());
  check(mip.every((v) => v.blend === 1) && thick.hash !== thin['mpr-axial'].hash && thick.mean >= thin['mpr-axial'].mean,
    `MIP 20 mm: blend ${mip.map((v) => v.blend).join(',')}, axial mean ${thin['mpr-axial'].mean.toFixed(1)} → ${thick.mean.toFixed(1)}`);
  await shot(page, 'viewer-mpr', 'mpr');

  // 4 (second half). The viewer window hung the CT.
  await win.waitForFunction((uid) => document.querySelector('[data-testid=viewer-window]')?.dataset.study === uid, want.ct, { timeout: 10000 });
  await win.waitForFunction(() => window.__lightboxViewer?.pane(0)?.rows === undefined ? false : window.__lightboxViewer.pane(0).rows > 0, null, { timeout: 60000 });
  check(true, `viewer window hangs the case the case window opened (${(await pane(win, 0)).count} slices)`);

  // 2. Mammography 4-up, current over prior.
  await page.goto(caseURL(want.mg));
  await page.waitForFunction(() => document.querySelector('[data-testid=viewer-grid]')?.dataset.protocol === 'mg-4up', null, { timeout: 60000 });
  // Drawn, not just loaded: on a busy machine the pane draws a moment later.
  await page.waitForFunction(() => [0, 1, 2, 3, 4, 5, 6, 7].every((i) => {
    const q = window.__lightboxViewer?.pane(i);
    return q?.rows > 0 && q.shown === q.imageId;
  }), null, { timeout: 60000 });
  const labels = await page.getByTestId('pane-label').allTextContents();
  check(labels.join('|') === 'Current RCC|Current LCC|Current RMLO|Current LMLO|Prior RCC|Prior LCC|Prior RMLO|Prior LMLO', `MG hanging: ${labels.join(', ')}`);
  const sopOf = (id) => decodeURIComponent(/\/instances\/([^/]+)\/frames\//.exec(id)[1]);
  const studyOf = (id) => decodeURIComponent(/\/studies\/([^/]+)\/series\//.exec(id)[1]);
  const got = [];
  for (let i = 0; i < 8; i++) {
    const p = await pane(page, i);
    got.push(`${studyOf(p.imageId) === want.mg ? 'cur' : studyOf(p.imageId) === want.mgPrior ? 'prior' : '?'}:${want.mgViews[sopOf(p.imageId)]}`);
  }
  check(got.join(' ') === 'cur:RCC cur:LCC cur:RMLO cur:LMLO prior:RCC prior:LCC prior:RMLO prior:LMLO', `panes show ${got.join(' ')}`);
  const st = await drawnStats(page, '[data-testid=pane-5] canvas');
  check(st.sd > 5, `prior LCC not blank (sd ${st.sd.toFixed(1)})`);
  await shot(page, 'viewer-mg', 'viewer-grid');
  await win.waitForFunction((uid) => document.querySelector('[data-testid=viewer-window]')?.dataset.study === uid, want.mg, { timeout: 10000 });
  check(true, 'viewer window follows to the mammogram');

  // 3. MR brain: the four key sequences in a 2×2.
  await page.goto(caseURL(want.mr.study));
  await page.waitForFunction(() => document.querySelector('[data-testid=viewer-grid]')?.dataset.protocol === 'mr-2x2', null, { timeout: 60000 });
  await page.waitForFunction(() => [0, 1, 2, 3].every((i) => {
    const q = window.__lightboxViewer?.pane(i);
    return q?.rows > 0 && q.shown === q.imageId;
  }), null, { timeout: 60000 });
  const mrLabels = await page.getByTestId('pane-label').allTextContents();
  check(mrLabels.join('|') === 'T1|T2|FLAIR|DWI', `MR brain hanging: ${mrLabels.join(', ')}`);
  const seriesOf = (id) => decodeURIComponent(/\/series\/([^/]+)\/instances\//.exec(id)[1]);
  const mrGot = [];
  for (let i = 0; i < 4; i++) {
    const p = await pane(page, i);
    const label = Object.entries(want.mr.series).find(([, uid]) => uid === seriesOf(p.imageId))?.[0] ?? '?';
    const s = await drawnStats(page, `[data-testid=pane-${i}] canvas`);
    mrGot.push(`${label} (${p.columns}×${p.rows}, ${p.count} slices, sd ${s?.sd.toFixed(1)})`);
    check(label === mrLabels[i] && s?.sd > 5, `pane ${i + 1} "${mrLabels[i]}" shows the ${label} series, not blank`);
  }
  log(`MR panes: ${mrGot.join('; ')}`);
  await shot(page, 'viewer-mr', 'viewer-grid');
  await win.waitForFunction((uid) => document.querySelector('[data-testid=viewer-window]')?.dataset.study === uid, want.mr.study, { timeout: 10000 });

  // Leaving the case clears the viewer window.
  await page.getByRole('button', { name: 'Back to worklist' }).click();
  await win.waitForFunction(() => document.querySelector('[data-testid=viewer-window]')?.dataset.study === '', null, { timeout: 10000 });
  check(true, 'leaving the case clears the viewer window');
} catch (e) {
  await failShot(e, b, join(shots, 'viewer-mpr-failure.png'));
} finally {
  await finish(b);
}
