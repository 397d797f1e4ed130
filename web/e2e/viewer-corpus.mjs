// Every pydicom corpus image and generated CT/MR/US/MG image in the Lightbox
// viewer (Cornerstone3D's dicom-image-loader, Debian chromium), against a
// Lightbox the Go test (cmd/lightbox/viewer_corpus_test.go) started. For
// each round of files (distinct SOP Instance UIDs; a later round replaces
// an earlier variant of the same instance) the script stores the files by
// STOW-RS, then hangs each instance alone and checks: frames were asked
// for exactly as OHIF asks (Explicit VR Little Endian for the few pixel
// formats the loader cannot decode), rows × columns, a non-blank canvas, and the
// value(s) at the probe point equal DCMTK's (within a tolerance for lossy
// syntaxes). Files listed in KNOWN are reported with their reason; any
// other failure fails the test.
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { canvasStatsOf, checks, launch, signInReader } from './browser.mjs';

const base = process.env.BASE_URL;
const shots = process.env.SHOTS || '/tmp';
const rounds = JSON.parse(process.env.EXPECT);
const known = JSON.parse(process.env.KNOWN || '{}'); // file name → why it cannot display
const ohifAccept = 'multipart/related; type=application/octet-stream; transfer-syntax=*';
// What the viewer asks for where the loader cannot decode the stored bytes
// (32 bits allocated, 16-bit colour): the server decodes.
const nativeAccept = 'multipart/related; type=application/octet-stream; transfer-syntax=1.2.840.10008.1.2.1';
const { log, check, fail, finish } = checks();

// stow stores files in one STOW-RS request (PS3.18 10.5) into the demo facility.
async function stow(paths) {
  const boundary = `lightbox-corpus-${Date.now()}`;
  const parts = [];
  for (const p of paths) {
    parts.push(Buffer.from(`--${boundary}\r\nContent-Type: application/dicom\r\n\r\n`), readFileSync(p), Buffer.from('\r\n'));
  }
  parts.push(Buffer.from(`--${boundary}--\r\n`));
  const res = await fetch(`${base}/dicomweb/studies?facility=SGH`, {
    method: 'POST', body: Buffer.concat(parts),
    headers: { Authorization: `Bearer ${process.env.BEARER}`, 'Content-Type': `multipart/related; type="application/dicom"; boundary=${boundary}` },
  });
  return { status: res.status, body: await res.text() };
}

const viewer = (page, f, ...args) => page.evaluate(([f, args]) => window.__lightboxViewer[f](...args), [f, args]);

const b = await launch();
const results = [];
let lastJ2K = null;
try {
  const page = b.context.pages()[0] ?? (await b.context.newPage());
  page.on('pageerror', (e) => log('page error:', e.message));
  page.on('console', (m) => m.type() === 'error' && !m.text().startsWith('Failed to load resource') && log('console:', m.text().slice(0, 200)));
  page.on('response', (r) => r.status() >= 400 && log(`HTTP ${r.status()} ${new URL(r.url()).pathname.replace(/\/studies\/.*\//, '/studies/…/')}`));
  const accepts = new Map();
  page.on('request', (r) => r.url().includes('/frames/') && accepts.set(r.headers().accept, (accepts.get(r.headers().accept) ?? 0) + 1));
  // Later rounds replace instances under the same URLs, which the server
  // lets the browser cache for a day: no HTTP cache here.
  const cdp = await b.context.newCDPSession(page);
  await cdp.send('Network.enable');
  await cdp.send('Network.setCacheDisabled', { cacheDisabled: true });
  await signInReader(page, base, 'dr.alpha');
  for (const [r, imgs] of rounds.entries()) {
    if (!imgs.length) continue;
    const st = await stow(imgs.map((i) => i.path));
    check(st.status === 200, `round ${r + 1}: ${imgs.length} files stored by STOW-RS (HTTP ${st.status}${st.status === 200 ? '' : ' ' + st.body.slice(0, 300)})`);
    // A fresh page: the previous round's variants leave the caches. It
    // opens on a generated CT (stored in the first round, never replaced):
    // an image whose decoder never returns would hold the pane.
    const reload = async () => {
      await page.goto(`${base}/case/${encodeURIComponent(process.env.LANDING_UID)}`);
      await page.waitForFunction(() => window.__lightboxViewer?.pane(0), null, { timeout: 30000 });
    };
    await reload();
    for (const img of imgs) {
      const t0 = Date.now();
      const why = [];
      await viewer(page, 'hang', [{ study: img.study, series: img.series, sop: img.sop }]);
      const shown = await page.waitForFunction((sop) => {
        const q = window.__lightboxViewer?.pane(0);
        if (q?.rows > 0 && q.shown === q.imageId && q.imageId.includes(`/instances/${encodeURIComponent(sop)}/`)) return true;
        return document.querySelector('[data-testid=pane-0] .viewer-error')?.textContent || false;
      }, img.sop, { timeout: known[img.file] ? 5000 : 20000 }).then((h) => h.jsonValue(), () => 'timed out');
      let got = null;
      if (shown !== true) {
        why.push(`not displayed: ${shown}`);
      } else {
        const q = await viewer(page, 'pane', 0);
        if (q.rows !== img.rows || q.columns !== img.columns) why.push(`${q.columns}×${q.rows}, file ${img.columns}×${img.rows}`);
        // The render follows the image's arrival: poll for it.
        let s = null;
        for (const until = Date.now() + (known[img.file] ? 300 : 3000); Date.now() < until; await page.waitForTimeout(50)) {
          s = await canvasStatsOf(page, '[data-testid=pane-0] canvas');
          if (s?.sd > 0 || s?.mean > 0) break;
        }
        if (!(s?.sd > 0 || s?.mean > 0)) why.push('blank canvas');
        const frame = Number(/\/frames\/(\d+)$/.exec(q.imageId)[1]);
        got = await viewer(page, 'samples', 0, img.col, img.row);
        const exp = img.want?.[frame - 1];
        if (exp && !(got?.length === exp.length && got.every((v, k) => Math.abs(v - exp[k]) <= img.tol))) {
          why.push(`frame ${frame} (${img.col},${img.row}) = ${JSON.stringify(got)}, DCMTK ${JSON.stringify(exp)}`);
        }
      }
      results.push({ file: img.file, ok: why.length === 0 });
      if (/^1\.2\.840\.10008\.1\.2\.4\.9[01]$/.test(img.ts)) lastJ2K = img;
      const ref = img.want ? `= ${img.ref} ${JSON.stringify(img.want[0]).slice(0, 40)}` : '(no reference decoder)';
      const line = `${img.file} [${img.ts}] ${img.columns}×${img.rows} ${JSON.stringify(got)} ${ref} ${Date.now() - t0} ms`;
      if (known[img.file]) {
        // Not a failure either way: some of these display now and then.
        log(`known ${line}: ${why.length ? `cannot display (${known[img.file]}): ${why.join('; ')}` : 'displayed this time'}`);
      } else {
        check(why.length === 0, `${line}${why.length ? ': ' + why.join('; ') : ''}`);
        if (why.length || process.env.SHOOT_ALL) await page.screenshot({ path: join(shots, `viewer-corpus-${img.file}.png`) });
      }
      // A failed load can leave the viewport unable to render the next one.
      if (why.length) await reload();
    }
  }
  await page.screenshot({ path: join(shots, 'viewer-corpus.png') });
  // A JPEG 2000 study's series list: the server renders no thumbnail for
  // that syntax in the default build, and the sidebar says so instead of
  // showing a broken image.
  if (lastJ2K) {
    await page.goto(`${base}/case/${encodeURIComponent(lastJ2K.study)}`);
    await page.locator('.viewer-thumbs li').first().waitFor({ timeout: 30000 });
    await page.waitForFunction(() => [...document.querySelectorAll('.viewer-thumbs img')].every((i) => i.complete), null, { timeout: 15000 });
    const thumbs = await page.locator('.viewer-thumbs li').evaluateAll((lis) => lis.map((li) => {
      const i = li.querySelector('img');
      return i ? (i.naturalWidth > 0 ? 'image' : 'broken') : (li.querySelector('.thumb-none') ? 'placeholder' : 'none');
    }));
    check(thumbs.length > 0 && thumbs.every((x) => x === 'image' || x === 'placeholder'), `series thumbnails of ${lastJ2K.file}'s study: ${thumbs.join(', ')}`);
    await page.screenshot({ path: join(shots, 'viewer-corpus-thumbs.png') });
  }
  check(accepts.get(ohifAccept) > 0 && [...accepts.keys()].every((a) => a === ohifAccept || a === nativeAccept),
    `frames asked for as OHIF asks (or decoded by the server for the loader): ${JSON.stringify([...accepts])}`);
  log(`${results.filter((x) => x.ok).length} of ${results.length} images displayed with the expected size and values`);
} catch (e) {
  fail(e);
} finally {
  await finish(b);
}
