// The diagnostic viewer in Debian's chromium, against a Lightbox the Go test
// (cmd/lightbox/viewer_test.go) started with the demo group and a generated
// CT study with one prior of the same patient:
//  1. the current CT displays: image size, slice count, the stored value at
//     a probe point (computed by the Go test from the DICOM file), pixels on
//     the canvas that are not blank;
//  2. the arrow key and the wheel change the slice; a W/L preset changes the
//     window and the pixels; invert and the overlay key;
//  3. a length measurement equals the distance times Pixel Spacing;
//  4. the prior hangs beside it (1x2) and follows the current study's
//     scrolling by slice position;
//  5. a key image saved by dr.alpha is seen by dr.bravo;
//  6. a case opened from the worklist with prefetch turned off (Station
//     page) and an empty cache fetches its frames; with prefetch on, the
//     worklist alone (no case open) fetches the assigned cases into the
//     cache, and the case's second opening makes no frame request and shows
//     its first image sooner; logout empties the image cache.
// Screenshots go to $SHOTS.
import { join } from 'node:path';
import { canvasStatsOf, checks, launch, signInReader } from './browser.mjs';

const base = process.env.BASE_URL;
const shots = process.env.SHOTS || '/tmp';
const study = process.env.STUDY_UID;
const want = JSON.parse(process.env.EXPECT); // {rows, columns, slices, spacing:[row,col], probe:{col,row}, values:{sop: HU}}
// Only viewer.png is a README picture; the others are for looking at.
const shot = async (page, name) => {
  if (process.env.README_ONLY && name !== 'viewer') return;
  await page.screenshot({ path: join(shots, `${name}.png`) });
};
const { log, check, failShot, finish } = checks();

const signIn = (page, user) => signInReader(page, base, user);

const viewer = (page, f, ...args) => page.evaluate(([f, args]) => window.__lightboxViewer[f](...args), [f, args]);
const pane = (page, i = 0) => viewer(page, 'pane', i);

const canvasStats = (page, i = 0) => canvasStatsOf(page, `[data-testid=pane-${i}] canvas`);

// openFromWorklist opens a case with its worklist row's button: the time to
// its first image on screen, the frame requests it made, the image cache
// size before.
async function openFromWorklist(page, uid) {
  const row = page.locator(`tr[data-study="${uid}"]`);
  await row.waitFor({ timeout: 20000 });
  const cacheBefore = await page.evaluate(() => window.__lightboxCache?.().bytes ?? 0);
  let frames = 0;
  const urls = [];
  const onReq = (r) => {
    if (!r.url().includes('/frames/')) return;
    frames++;
    urls.push(r.url().replace(/^.*\/studies\/(.{12}).*\/series\/(.{12}).*\/instances\/(.{12}).*\/frames\//, '$1…/$2…/$3…/'));
  };
  page.on('request', onReq);
  const t = Date.now();
  await row.getByRole('button', { name: /^Open/ }).click();
  await page.waitForFunction(() => {
    const q = window.__lightboxViewer?.pane(0);
    return q?.rows > 0 && q.shown === q.imageId;
  }, null, { timeout: 30000 });
  const ms = Date.now() - t;
  page.off('request', onReq);
  return { ms, frames, cacheBefore, urls, cached: await page.evaluate(() => window.__lightboxCache?.()) };
}

async function openCase(page) {
  await page.goto(`${base}/case/${encodeURIComponent(study)}`);
  await page.waitForFunction(() => window.__lightboxViewer?.pane(0)?.rows > 0, null, { timeout: 30000 });
  await page.waitForTimeout(300); // the first render after the image arrives
}

const alpha = await launch();
const bravo = await launch();
try {
  const page = alpha.context.pages()[0] ?? (await alpha.context.newPage());
  page.on('pageerror', (e) => log('page error:', e.message));
  page.on('console', (m) => m.type() === 'error' && m.text().startsWith('lightbox:') && log('page console:', m.text()));
  const failed = new Map();
  page.on('response', (r) => r.status() >= 400 && failed.set(r.url().replace(/\/instances\/.*/, '/…'), r.status()));
  page.on('requestfailed', (r) => failed.set(r.url().replace(/\/instances\/.*/, '/…'), r.failure()?.errorText));
  const csp = [];
  page.on('console', (m) => m.type() === 'error' && /Content Security Policy/.test(m.text()) && csp.push(m.text()));
  await signIn(page, 'dr.alpha');

  // 6 (first half). The first opening of an assigned case, from the
  // worklist, with an empty cache and prefetch off: its frames come over
  // the network.
  const setPrefetch = async (on) => {
    await page.goto(`${base}/station`);
    // Enabled once the saved preferences are in: before that it shows the
    // default (on), and a test that read it then skipped the click and left
    // prefetch off (the worklist's prefetch never started, under CI load).
    const box = page.getByRole('checkbox', { name: 'Fetch my assigned cases in the background', disabled: false });
    await box.waitFor();
    await page.getByTestId('cache-effective').waitFor();
    if ((await box.isChecked()) !== on) {
      await box.click();
      await page.getByTestId('image-cache').getByRole('status').filter({ hasText: 'Saved.' }).waitFor();
    }
  };
  await setPrefetch(false);
  await shot(page, 'viewer-cache-setting');
  const drawing = page.getByLabel("Draw the viewer's images with");
  check((await drawing.inputValue()) === (process.env.RENDER || 'auto'),
    `station: the viewer's images drawn with "${await drawing.locator('option:checked').textContent()}"`);
  const effective = await page.getByTestId('cache-effective').textContent();
  log(`station: ${effective}`);
  const boundGB = Number(await page.getByTestId('cache-effective').getAttribute('data-mb')) / 1024;
  await page.goto(`${base}/`);
  await page.locator('tr[data-study]').first().waitFor({ timeout: 30000 });
  const rowStudies = await page.locator('tr[data-study]').evaluateAll((rs) => rs.map((r) => r.dataset.study));
  const again = rowStudies.find((u) => u !== study);
  const firstOpen = await openFromWorklist(page, again);
  check(firstOpen.cacheBefore === 0 && firstOpen.frames > 0,
    `first opening of a case: ${firstOpen.ms} ms to the first image, cache ${firstOpen.cacheBefore} bytes before, ${firstOpen.frames} frame requests`);

  const opened = Date.now();
  await openCase(page);
  log(`case page → first image ${Date.now() - opened} ms (cold, including the app's own requests)`);
  const render = await page.evaluate(() => window.__lightboxRender);
  log(`stack viewports drawn on the ${render?.path ?? '?'} path (${render?.why ?? 'not reported'})`);

  // 1. Display.
  let p = await pane(page);
  check(p.rows === want.rows && p.columns === want.columns, `image ${p.columns}×${p.rows}`);
  check(p.count === want.slices, `stack of ${p.count} slices`);
  const sopOf = (id) => decodeURIComponent(/\/instances\/([^/]+)\/frames\//.exec(id)[1]);
  const probe = async () => {
    const q = await pane(page);
    return { got: await viewer(page, 'probe', 0, want.probe.col, want.probe.row), exp: want.values[sopOf(q.imageId)] };
  };
  let v = await probe();
  check(v.exp !== undefined && Math.abs(v.got - v.exp) < 0.5, `value at (${want.probe.col},${want.probe.row}) is ${v.got} HU, file says ${v.exp}`);
  let s = await canvasStats(page);
  check(s.sd > 5, `canvas not blank (${s.width}×${s.height}, mean ${s.mean.toFixed(1)}, sd ${s.sd.toFixed(1)})`);
  await shot(page, 'viewer-open');

  // 2. Scroll by key and wheel; presets; invert; overlays.
  await page.getByTestId('viewer-grid').focus();
  await page.keyboard.press('ArrowDown');
  await page.waitForFunction((i) => {
    const q = window.__lightboxViewer.pane(0);
    return q.index === i + 1 && q.shown === q.imageId;
  }, p.index);
  v = await probe();
  check(Math.abs(v.got - v.exp) < 0.5, `ArrowDown: slice ${p.index + 2}/${p.count}, value ${v.got} = file ${v.exp}`);
  const box = await page.getByTestId('pane-0').boundingBox();
  await page.mouse.move(box.x + box.width / 2, box.y + box.height / 2);
  await page.mouse.wheel(0, 100);
  await page.waitForFunction((i) => window.__lightboxViewer.pane(0).index !== i + 1, p.index);
  const afterWheel = (await pane(page)).index;
  check(afterWheel !== p.index + 1, `wheel scrolled to slice ${afterWheel + 1}`);
  await page.getByTestId('slice').filter({ hasText: `Im ${afterWheel + 1}/${p.count}` }).waitFor({ timeout: 5000 });
  check(true, 'overlay shows the slice');

  const before = await canvasStats(page);
  await page.getByLabel('Window preset').selectOption({ label: '4 Lung -600/1500' });
  await page.waitForFunction(() => window.__lightboxViewer.pane(0).center === -600);
  await page.waitForTimeout(200);
  p = await pane(page);
  s = await canvasStats(page);
  check(p.width === 1500 && s.hash !== before.hash, `lung preset: W ${p.width} L ${p.center}, pixels changed (mean ${before.mean.toFixed(1)} → ${s.mean.toFixed(1)})`);
  await page.getByTestId('viewer-grid').focus();
  await page.keyboard.press('1'); // brain preset by key
  await page.waitForFunction(() => window.__lightboxViewer.pane(0).center === 40);
  check(true, 'key 1: brain preset W 80 L 40');
  await page.keyboard.press('o');
  check((await page.getByTestId('overlay').count()) === 0, 'O hides the overlays');
  await page.keyboard.press('o');
  check((await page.getByTestId('overlay').count()) >= 1, 'O shows them again'); // one per pane (a CT prior hangs beside)

  // The tag browser shows the file's Pixel Spacing.
  await page.getByRole('button', { name: 'Tags' }).click();
  await page.getByLabel('Filter tags').fill('0028,0030');
  const spacingRow = await page.getByTestId('tags').locator('tr').first().textContent();
  check(spacingRow.includes(String(want.spacing[0]).slice(0, 6)), `tag browser: ${spacingRow}`);
  await page.getByRole('button', { name: 'Tags' }).click();

  // Cine steps through the stack by itself.
  const still = (await pane(page)).index;
  await page.getByRole('button', { name: 'Cine' }).click();
  await page.waitForFunction((i) => window.__lightboxViewer.pane(0).index !== i, still, { timeout: 5000 });
  await page.getByRole('button', { name: 'Cine' }).click();
  check(true, `cine moved from slice ${still + 1} to ${(await pane(page)).index + 1}`);

  // Invert, zoom, pan, W/L by drag and reset, which either rendering path
  // (cornerstone.ts) answers alike: zoom relative to the fitted image, pan
  // as the image's offset on the canvas.
  await page.getByTestId('viewer-grid').focus();
  const upright = await canvasStats(page);
  await page.keyboard.press('i');
  await page.waitForFunction(() => window.__lightboxViewer.pane(0).invert);
  await page.waitForTimeout(200);
  const inverted = await canvasStats(page);
  const wlText = await page.getByTestId('pane-0').getByTestId('wl').textContent();
  check(inverted.hash !== upright.hash && wlText.endsWith(' inv'), `I inverts (mean ${upright.mean.toFixed(1)} → ${inverted.mean.toFixed(1)}, overlay "${wlText}")`);
  await page.keyboard.press('i');
  await page.waitForFunction(() => !window.__lightboxViewer.pane(0).invert);
  const cx = box.x + box.width / 2;
  const cy = box.y + box.height / 2;
  const drag = async (button, dx, dy) => {
    await page.mouse.move(cx, cy);
    await page.mouse.down({ button });
    await page.mouse.move(cx + dx, cy + dy, { steps: 5 });
    await page.mouse.up({ button });
    await page.waitForTimeout(200);
  };
  const fitted = await viewer(page, 'imageToCanvas', 0, 48, 48);
  await drag('right', 0, 60); // the Zoom tool's binding
  const zoomed = await pane(page);
  const zoomText = await page.getByTestId('pane-0').getByTestId('overlay').locator('.bl').textContent();
  check(zoomed.zoom > 1.05 && zoomText.includes(`Zoom ${zoomed.zoom.toFixed(2)}`), `right-drag zooms to ${zoomed.zoom.toFixed(2)} (overlay "${zoomText.trim()}")`);
  const panFrom = await viewer(page, 'imageToCanvas', 0, 48, 48);
  await drag('middle', 40, 30); // the Pan tool's
  const panTo = await viewer(page, 'imageToCanvas', 0, 48, 48);
  check(Math.abs(panTo[0] - panFrom[0] - 40) < 3 && Math.abs(panTo[1] - panFrom[1] - 30) < 3,
    `middle-drag by (40, 30) moves the image by (${(panTo[0] - panFrom[0]).toFixed(1)}, ${(panTo[1] - panFrom[1]).toFixed(1)})`);
  const wl0 = await pane(page);
  await drag('left', 30, 20); // W/L, the primary tool
  const wl1 = await pane(page);
  check(wl1.width !== wl0.width && wl1.center !== wl0.center, `left-drag windows: W ${wl0.width} L ${wl0.center} → W ${Math.round(wl1.width)} L ${Math.round(wl1.center)}`);
  await page.getByTestId('viewer-grid').focus();
  await page.keyboard.press('r');
  await page.waitForFunction(() => Math.abs(window.__lightboxViewer.pane(0).zoom - 1) < 0.01);
  const back = await viewer(page, 'imageToCanvas', 0, 48, 48);
  check(Math.abs(back[0] - fitted[0]) < 1 && Math.abs(back[1] - fitted[1]) < 1, `R resets zoom and pan (the point at (${fitted.map((v) => v.toFixed(0))}) is back at (${back.map((v) => v.toFixed(0))}))`);
  await shot(page, 'viewer-tools');

  // 3. Length: a horizontal line of 64 pixels.
  await page.getByRole('button', { name: 'Length' }).click();
  const a = await viewer(page, 'imageToCanvas', 0, 16, 40);
  const b = await viewer(page, 'imageToCanvas', 0, 80, 40);
  await page.mouse.move(box.x + a[0], box.y + a[1]);
  await page.mouse.down();
  await page.mouse.move(box.x + (a[0] + b[0]) / 2, box.y + a[1], { steps: 4 });
  await page.mouse.move(box.x + b[0], box.y + b[1], { steps: 4 });
  await page.mouse.up();
  // The tool's statistics settle after the last move.
  await page.waitForFunction(([sr, sc]) => {
    const [l] = window.__lightboxViewer.lengths();
    if (!l) return false;
    const [[c0, r0], [c1, r1]] = l.points;
    return Math.abs(l.value - Math.hypot((c1 - c0) * sc, (r1 - r0) * sr)) < 0.01;
  }, want.spacing, { timeout: 5000 }).catch(() => {});
  const [len] = await viewer(page, 'lengths');
  const [[c0, r0], [c1, r1]] = len.points;
  const exp = Math.hypot((c1 - c0) * want.spacing[1], (r1 - r0) * want.spacing[0]);
  check(Math.abs(len.value - exp) < 0.01 && Math.abs(c1 - c0 - 64) < 2,
    `length ${len.value.toFixed(2)} ${len.unit} over ${(c1 - c0).toFixed(1)} px = ${exp.toFixed(2)} mm at pixel spacing ${want.spacing.join('\\')}`);
  await shot(page, 'viewer-length');

  // The other measurement tools draw and report on this slice: an angle
  // (three clicks) and a rectangle (a drag) with their statistics, a probe
  // (a click).
  const at = async (c, r) => {
    const q = await viewer(page, 'imageToCanvas', 0, c, r);
    return [box.x + q[0], box.y + q[1]];
  };
  const kinds = async () => (await viewer(page, 'annotations')).map((a) => a.tool);
  const drawn0 = await kinds();
  // A tool is bound in an effect after the button shows pressed; two
  // frames later it has run, however busy the page (a fixed 100 ms wait let
  // a click under load land on the tool before).
  const use = async (name) => {
    await page.getByRole('button', { name, exact: true }).click();
    await page.getByRole('button', { name, exact: true, pressed: true }).waitFor();
    await page.evaluate(() => new Promise((r) => requestAnimationFrame(() => requestAnimationFrame(r))));
  };
  const dragTo = async (a, b) => {
    await page.mouse.move(...a);
    await page.mouse.down();
    await page.mouse.move(...b, { steps: 8 });
    await page.mouse.up();
    await page.waitForTimeout(200);
  };
  await use('Angle');
  for (const [c, r] of [[30, 60], [48, 75], [66, 60]]) {
    await page.mouse.click(...(await at(c, r)));
    await page.waitForTimeout(150);
  }
  await use('Ellipse');
  await dragTo(await at(28, 52), await at(40, 66));
  await use('Rectangle');
  await dragTo(await at(55, 20), await at(70, 32));
  await use('Probe');
  await page.mouse.click(...(await at(want.probe.col, want.probe.row)));
  await page.mouse.move(box.x + 5, box.y + 5);
  await page.waitForTimeout(500);
  const added = (await viewer(page, 'annotations')).slice(drawn0.length);
  const stat = (tool, key) => added.filter((a) => a.tool === tool).flatMap((a) => Object.values(a.stats ?? {})).map((x) => x?.[key]).find((v) => v !== undefined);
  const angle = stat('Angle', 'angle');
  const mean = stat('RectangleROI', 'mean');
  const ellipse = stat('EllipticalROI', 'mean');
  const probed = stat('Probe', 'value');
  const stored = await viewer(page, 'probe', 0, want.probe.col, want.probe.row);
  check(Number.isFinite(angle) && Number.isFinite(mean) && added.some((a) => a.tool === 'Probe'),
    `angle ${angle?.toFixed(1)}°, rectangle mean ${mean?.toFixed(1)}, a probe: ${added.map((a) => a.tool).join(', ')}`);
  // Not checked (the same on either rendering path, 2026-12): the ellipse
  // drawn by this drag, the probe's value.
  log(`ellipse mean ${ellipse}, probe ${probed} (stored ${stored})`);
  await shot(page, 'viewer-annotations');
  await page.getByRole('button', { name: 'Length' }).click();

  // 5 (first half). K marks the image on display as a key image, with the line.
  await page.getByTestId('viewer-grid').focus();
  await page.keyboard.press('k');
  await page.getByTestId('key-images').locator('li').first().waitFor();
  const keySop = await page.getByTestId('key-images').locator('li').first().getAttribute('data-sop');
  check(keySop === sopOf((await pane(page)).imageId), 'key image saved for the image on display');

  // 4. The prior beside it, scrolled by position.
  await page.getByRole('button', { name: 'W/L' }).click();
  const prior = page.getByTestId('priors').locator(`button[data-study="${process.env.PRIOR_UID}"]`);
  check((await prior.count()) === 1, `the prior is listed (${await page.getByTestId('priors').locator('button').count()} studies of the patient in scope)`);
  await prior.click();
  await page.waitForFunction(() => window.__lightboxViewer.pane(1)?.rows > 0, null, { timeout: 30000 });
  await page.getByTestId('pane-0').click();
  await page.getByTestId('viewer-grid').focus();
  for (let k = 0; k < 3; k++) await page.keyboard.press('ArrowUp');
  await page.waitForTimeout(500);
  const [cur, old] = [await pane(page, 0), await pane(page, 1)];
  check(Math.abs(cur.position - old.position) <= want.thickness / 2 + 0.01,
    `prior follows by position: current ${cur.position.toFixed(1)} mm (Im ${cur.index + 1}), prior ${old.position.toFixed(1)} mm (Im ${old.index + 1})`);
  await shot(page, 'viewer');
  check(csp.length === 0, `no Content-Security-Policy violations ${csp.join(' | ')}`);

  // 5. Another reader opens the case and sees the key image with its line.
  const p2 = bravo.context.pages()[0] ?? (await bravo.context.newPage());
  await signIn(p2, 'dr.bravo');
  await openCase(p2);
  const item = p2.getByTestId('key-images').locator('li').first();
  await item.waitFor();
  const text = await item.textContent();
  check(text.includes('dr.alpha') && (await item.getAttribute('data-sop')) === keySop && text.includes(len.value.toFixed(1)),
    `dr.bravo sees dr.alpha's key image: ${JSON.stringify(text)}`);

  // Prefetch: with it turned on, the worklist alone (a fresh page, no case
  // open) fetches the assigned cases into the cache; opening one from the
  // worklist then needs no frame from the network.
  await setPrefetch(true);
  await page.goto(`${base}/`);
  const t0 = Date.now();
  for (let until = t0 + 90000, next = t0; ; await page.waitForTimeout(100)) {
    const c = await page.evaluate(() => window.__lightboxCache?.() ?? null);
    if (c?.studies.includes(again) && c.pending === 0 && c.done > 0) break;
    if (Date.now() >= next) {
      log(`prefetch after ${Date.now() - t0} ms: ${c ? `${c.done} done, ${c.pending} pending, ${c.studies.length} cases` : 'not started'}`);
      next = Date.now() + 2000;
    }
    if (Date.now() > until) {
      // What the page did: the worklist's rows, the prefetch's marks, the screen.
      const seen = await page.evaluate(() => ({
        path: location.pathname,
        rows: document.querySelectorAll('[data-testid="worklist"] tbody tr').length,
        marks: performance.getEntries().filter((e) => e.name.startsWith('lightbox:')).map((e) => `${e.name}@${Math.round(e.startTime)}`),
        scripts: performance.getEntriesByType('resource').filter((e) => /background|viewer/i.test(e.name)).map((e) => e.name.replace(/^.*\//, '')),
      }));
      await shot(page, 'viewer-prefetch-failed');
      throw new Error(`prefetch did not finish: ${JSON.stringify(c)}; page ${JSON.stringify(seen)}`);
    }
  }
  const prefetchMs = Date.now() - t0;
  const pre = await page.evaluate(() => ({ ...window.__lightboxCache(), path: location.pathname,
    initMs: performance.getEntriesByName('lightbox:prefetch-init')[0]?.duration }));
  log(`prefetched from the worklist: ${pre.done} frames of ${pre.studies.length} assigned cases, cache ${(pre.bytes / 1e6).toFixed(1)} MB of ${(pre.max / 2 ** 30).toFixed(2)} GiB, the loader's start ${pre.initMs?.toFixed(0)} ms, done ${prefetchMs} ms after the worklist's page load began`);
  check(pre.path === '/' && pre.studies.includes(again) && pre.bytes > 0 && pre.max === boundGB * 2 ** 30,
    `the worklist prefetched the case opened first (${pre.studies.length} cases, none open; cache bound ${pre.max} bytes, the station page says ${boundGB} GB)`);
  const second = await openFromWorklist(page, again);
  await page.waitForTimeout(300);
  await shot(page, 'viewer-prefetched');
  check(second.frames === 0 && second.ms < firstOpen.ms,
    `second opening, prefetched: ${second.ms} ms to the first image with ${second.frames} frame requests (first opening ${firstOpen.ms} ms, ${firstOpen.frames} requests)`);
  if (second.frames) log('frames asked for:', JSON.stringify(second.urls), JSON.stringify(second.cached));

  log('failed requests', JSON.stringify([...failed]));
  // The MR and the CR display with their own sizes.
  for (const [uid, dims] of Object.entries(want.others)) {
    await page.goto(`${base}/case/${encodeURIComponent(uid)}`);
    await page.waitForFunction(() => {
      const q = window.__lightboxViewer?.pane(0);
      return q?.rows > 0 && q.shown === q.imageId;
    }, null, { timeout: 30000 });
    await page.waitForTimeout(300);
    const q = await pane(page);
    const st = await canvasStats(page);
    const mod = await page.getByTestId('pane-0').getByTestId('overlay').locator('.tr').textContent();
    check(q.rows === dims.rows && q.columns === dims.columns && st.sd > 5,
      `${mod.slice(0, 2)}: ${q.columns}×${q.rows} (file ${dims.columns}×${dims.rows}), canvas sd ${st.sd.toFixed(1)}`);
    await shot(page, `viewer-${mod.slice(0, 2)}`);
  }

  // Logout empties the decoded-image cache.
  const cached = await page.evaluate(() => window.__lightboxCache().bytes);
  // (the MR and CR pages above were loaded fresh: the cache holds them)
  await page.getByRole('button', { name: 'Sign out' }).click();
  await page.getByRole('button', { name: 'Sign in' }).waitFor();
  const left = await page.evaluate(() => window.__lightboxCache());
  check(cached > 0 && left.bytes === 0 && left.studies.length === 0 && left.pending === 0,
    `image cache ${cached} bytes before logout, ${left.bytes} after (prefetch queue ${left.studies.length} cases)`);
} catch (e) {
  await failShot(e, alpha, join(shots, 'viewer-failure.png'));
} finally {
  await finish(alpha, bravo);
}
