// bench/viewer: Lightbox's viewer and OHIF's prebuilt viewer on the same
// study, same Lightbox, same headless Debian chromium, same run
// (bench/viewer/run.sh starts Lightbox and fetches OHIF; see bench/README.md).
//
// OHIF is served same-origin with the DICOMweb it reads: a small proxy
// here serves OHIF's dist and forwards /dicomweb to Lightbox (the session
// cookie is the one the bench got by signing in to Lightbox: cookies are
// per host, not per port).
//
// Measured for each viewer, from the browser:
//   first image: navigation to the study → the first Cornerstone image
//     rendered (CORNERSTONE_IMAGE_RENDERED, caught in the capture phase);
//     cold (nothing cached) and, Lightbox only, prefetched (the study's
//     frames already in the viewer's local cache, opened again in-app);
//   all frames: Lightbox: navigation → every image of the stack decoded in
//     its cache; OHIF: navigation → the last of the study's frame responses
//     (its decoding is not waited for);
//   per-slice: ArrowDown keydown → the next image rendered, 100 steps
//     once every frame is loaded (median, p95);
//   bytes on the wire: the encoded response bytes (CDP Network events).
// LIGHTBOX_WARM=n opens the prefetched case n times in the first browser.
// LIGHTBOX_RUNS=n opens Lightbox's cold case n times, each in a new browser
// (cold, all slices; the steps and the prefetched opening in the first
// only), for several samples from one server start. BENCH_TRACE=DIR writes
// a Chromium trace of each cold opening to DIR and logs the page's
// main-thread work by kind (module compile and evaluation by script,
// tasks, GC) up to the first image.
import { createReadStream, existsSync, readdirSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import http from 'node:http';
import { extname, join, normalize } from 'node:path';
import { launch, signInCoordinator } from '../../web/e2e/browser.mjs';

const lb = process.env.LIGHTBOX_URL; // http://127.0.0.1:PORT
const study = process.env.STUDY_UID;
const slices = Number(process.env.SLICES || 1000);
const ohifDist = process.env.OHIF_DIST; // folder with index.html, or empty to skip OHIF
// Steps start from the middle slice (where the viewer opens) downwards.
const steps = Math.min(Number(process.env.STEPS || 100), Math.floor(slices / 2) - 1);
const log = (...a) => console.error(`[${new Date().toISOString().slice(11, 19)}]`, ...a);

// The page-side probe: timestamps of every image render and key press.
const probe = () => {
  window.__bench = { renders: [], keys: [], images: [] };
  performance.setResourceTimingBufferSize(20000); // the timelines (250 by default)
  // Cornerstone fires IMAGE_RENDERED for any viewport render, an empty one
  // too (enabled, resized): the first image is the first render that puts
  // something other than black on the viewport's canvas.
  addEventListener('CORNERSTONE_IMAGE_RENDERED', (e) => {
    const t = performance.now();
    const b = window.__bench;
    b.renders.push(t);
    if (b.images.length) return;
    const c = e.target?.querySelector?.('canvas');
    if (!c?.width) return;
    const ctx = c.getContext('2d');
    if (!ctx) {
      b.images.push(t); // not a 2D canvas: cannot look, take the render
      return;
    }
    const d = ctx.getImageData(0, 0, c.width, c.height).data;
    for (let i = 0; i < d.length; i += 4 * 31) {
      if (d[i] | d[i + 1] | d[i + 2]) {
        b.images.push(t);
        return;
      }
    }
  }, true);
  addEventListener('keydown', () => window.__bench.keys.push(performance.now()), true);
};

const types = { '.js': 'text/javascript', '.mjs': 'text/javascript', '.css': 'text/css', '.html': 'text/html', '.json': 'application/json', '.wasm': 'application/wasm', '.png': 'image/png', '.ico': 'image/x-icon', '.svg': 'image/svg+xml', '.woff2': 'font/woff2' };

// ohifServer serves OHIF's dist and proxies /dicomweb to Lightbox.
function ohifServer(dist) {
  const target = new URL(lb);
  const srv = http.createServer((req, res) => {
    if (req.url.startsWith('/dicomweb')) {
      const up = http.request({ host: target.hostname, port: target.port, path: req.url, method: req.method, headers: { ...req.headers, host: target.host } }, (r) => {
        res.writeHead(r.statusCode, r.headers);
        r.pipe(res);
      });
      up.on('error', () => res.destroy());
      req.pipe(up);
      return;
    }
    const path = decodeURIComponent(req.url.split('?')[0]);
    if (path === '/app-config.js') {
      res.writeHead(200, { 'Content-Type': 'text/javascript' });
      res.end(ohifConfig(`http://${req.headers.host}/dicomweb`));
      return;
    }
    let file = normalize(join(dist, path));
    if (!file.startsWith(dist) || !existsSync(file) || statSync(file).isDirectory()) file = join(dist, 'index.html');
    res.writeHead(200, { 'Content-Type': types[extname(file)] || 'application/octet-stream' });
    createReadStream(file).pipe(res);
  });
  return new Promise((ok) => srv.listen(0, '127.0.0.1', () => ok(srv)));
}

// ohifConfig: OHIF's default DICOMweb data source pointed at Lightbox.
function ohifConfig(root) {
  return `window.config = {
  routerBasename: '/', extensions: [], modes: [], showStudyList: false, showLoadingIndicator: true,
  showWarningMessageForCrossOrigin: false, showCPUFallbackMessage: false, strictZSpacingForVolumeViewport: true,
  maxNumberOfWebWorkers: 3, maxNumRequests: { interaction: 100, thumbnail: 5, prefetch: 25 },
  defaultDataSourceName: 'lightbox',
  dataSources: [{
    namespace: '@ohif/extension-default.dataSourcesModule.dicomweb',
    sourceName: 'lightbox',
    configuration: {
      friendlyName: 'Lightbox', name: 'lightbox',
      wadoUriRoot: '${root}', qidoRoot: '${root}', wadoRoot: '${root}',
      qidoSupportsIncludeField: true, imageRendering: 'wadors', thumbnailRendering: 'wadors',
      enableStudyLazyLoad: true, supportsFuzzyMatching: false, supportsWildcard: true, staticWado: false,
      singlepart: 'bulkdata,video', omitQuotationForMultipartRequest: true,
    },
  }],
};`;
}

// meter counts the wire bytes and the frame responses of a page.
async function meter(context, page) {
  const cdp = await context.newCDPSession(page);
  await cdp.send('Network.enable');
  const m = { bytes: 0, frames: 0, lastFrame: 0, frameURLs: new Set() };
  const frameReq = new Map();
  cdp.on('Network.requestWillBeSent', (e) => /\/frames\//.test(e.request.url) && frameReq.set(e.requestId, e.request.url));
  cdp.on('Network.loadingFinished', (e) => {
    m.bytes += e.encodedDataLength;
    const u = frameReq.get(e.requestId);
    if (u && !m.frameURLs.has(u)) {
      m.frameURLs.add(u);
      m.frames++;
      m.lastFrame = Date.now();
    }
  });
  m.reset = () => Object.assign(m, { bytes: 0, frames: 0, lastFrame: 0, frameURLs: new Set() });
  return m;
}

const pct = (xs, p) => {
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.min(s.length - 1, Math.floor((p / 100) * s.length))];
};

// step presses ArrowDown n times, each timed from the key to the next render.
// The counts of keys and renders so far are read before the key is sent:
// CDP's Input and Runtime domains are not ordered with each other, so a
// probe sent together with the key could run after the key had landed and
// then wait for a key that never comes (the 5 s time-out dropped 19-48 of
// 100 steps in earlier runs).
async function step(page, n) {
  const out = [];
  for (let i = 0; i < n; i++) {
    const [k, r] = await page.evaluate(() => [window.__bench.keys.length, window.__bench.renders.length]);
    await page.keyboard.press('ArrowDown');
    out.push(await page.evaluate(([k, r]) => new Promise((ok) => {
      const poll = () => {
        const kt = window.__bench.keys[k];
        const rt = kt === undefined ? undefined : window.__bench.renders.slice(r).find((t) => t >= kt);
        if (rt !== undefined) ok(rt - kt);
        else requestAnimationFrame(poll);
      };
      poll();
      setTimeout(() => ok(NaN), 5000);
    }), [k, r]));
  }
  return out.filter(Number.isFinite);
}

async function waitFrames(m, t0, timeout = 600000) {
  const end = Date.now() + timeout;
  while (m.frames < slices && Date.now() < end) await new Promise((r) => setTimeout(r, 20));
  return m.frames >= slices ? m.lastFrame - t0 : NaN;
}

const firstRender = (page, timeout = 120000) =>
  page.waitForFunction(() => window.__bench.images.length > 0, null, { timeout, polling: 10 }).then(() => page.evaluate(() => window.__bench.images[0]));

// timeline logs where the cold first image's time went: every request
// (Resource Timing), the viewer's performance marks and the Cornerstone
// renders up to the first image.
async function timeline(page, until, from = 0) {
  const rows = await page.evaluate(([until, from]) => [
    ...performance.getEntriesByType('resource').filter((e) => e.startTime <= until && e.startTime >= from).map((e) => {
      const u = new URL(e.name);
      const path = u.pathname.replace(/\/studies\/[^/]+/, '/studies/…').replace(/\/series\/[^/]+/, '/series/…').replace(/\/instances\/[^/]+/, '/instances/…');
      return [e.startTime, e.responseEnd, `${path.length > 70 ? path.slice(0, 30) + '…' + path.slice(-38) : path} ${(e.encodedBodySize / 1024).toFixed(0)} KB`];
    }),
    ...performance.getEntriesByType('mark').filter((e) => e.startTime <= until && e.startTime >= from).map((e) => [e.startTime, e.startTime, `mark ${e.name}`]),
    // Every Cornerstone render before the first image (empty viewports, resizes).
    ...window.__bench.renders.filter((t) => t < until && t >= from).map((t) => [t, t, 'render']),
  ].sort((a, b) => a[0] - b[0]), [until, from]);
  for (const [s, e, what] of rows) log(`  ${s.toFixed(0).padStart(5)} → ${e.toFixed(0).padStart(5)} ms  ${what}`);
  log(`  ${until.toFixed(0).padStart(5)} ms  first image rendered`);
}

// browserCPU: the CPU time (user + system, ms) of this process's
// descendants (the browser's processes) by process type (--type=renderer,
// gpu-process, utility: the network service), from /proc: on a shared
// machine it says more than wall time.
function browserCPU() {
  const kids = new Map();
  const stat = new Map();
  for (const d of readdirSync('/proc')) {
    if (!/^\d+$/.test(d)) continue;
    try {
      const f = readFileSync(`/proc/${d}/stat`, 'utf8');
      const a = f.slice(f.lastIndexOf(')') + 2).split(' ');
      const type = /--type=([\w-]+)/.exec(readFileSync(`/proc/${d}/cmdline`, 'utf8'))?.[1] ?? 'browser';
      stat.set(Number(d), { ticks: Number(a[11]) + Number(a[12]), type });
      kids.set(Number(a[1]), [...(kids.get(Number(a[1])) ?? []), Number(d)]);
    } catch {
      // gone meanwhile
    }
  }
  const out = { total: 0 };
  const walk = (p) => (kids.get(p) ?? []).forEach((c) => {
    const s = stat.get(c);
    if (s) {
      const ms = (s.ticks * 1000) / 100; // USER_HZ
      out.total += ms;
      out[s.type] = (out[s.type] ?? 0) + ms;
      // The renderer by thread (page, workers, compositor, pool, IO): the
      // thread's name, as Chromium set it (15 characters at most).
      if (s.type === 'renderer') {
        for (const t of threadsOf(c)) out[`renderer ${t.name}`] = (out[`renderer ${t.name}`] ?? 0) + (t.ticks * 1000) / 100;
      }
    }
    walk(c);
  });
  walk(process.pid);
  return out;
}
function threadsOf(pid) {
  const out = [];
  try {
    for (const t of readdirSync(`/proc/${pid}/task`)) {
      try {
        const f = readFileSync(`/proc/${pid}/task/${t}/stat`, 'utf8');
        const a = f.slice(f.lastIndexOf(')') + 2).split(' ');
        out.push({ name: f.slice(f.indexOf('(') + 1, f.lastIndexOf(')')), ticks: Number(a[11]) + Number(a[12]) });
      } catch {
        // gone meanwhile
      }
    }
  } catch {
    // gone meanwhile
  }
  return out;
}
const cpuSince = (a, b = browserCPU()) => Object.fromEntries(Object.keys(b).map((k) => [k, Math.round(b[k] - (a[k] ?? 0))]));

// profiler: with BENCH_PROFILE=DIR, a CPU profile of the page's main thread
// (CDP Profiler) from the cold navigation to every slice loaded, and one of
// the steps, written to DIR as .cpuprofile (open in Chrome's DevTools) with
// the functions taking the most self time logged.
async function profiler(context, page) {
  const dir = process.env.BENCH_PROFILE;
  if (!dir) return { start: async () => {}, stop: async () => {} };
  const cdp = await context.newCDPSession(page);
  await cdp.send('Profiler.enable');
  await cdp.send('Profiler.setSamplingInterval', { interval: 500 });
  const start = () => cdp.send('Profiler.start');
  await start();
  return {
    start,
    async stop(name) {
      const { profile } = await cdp.send('Profiler.stop');
      writeFileSync(join(dir, `lightbox-${name}.cpuprofile`), JSON.stringify(profile));
      const self = new Map();
      const byId = new Map(profile.nodes.map((n) => [n.id, n]));
      const dt = profile.timeDeltas;
      profile.samples.forEach((id, i) => {
        const f = byId.get(id).callFrame;
        const k = `${f.functionName || '(anonymous)'} ${f.url.split('/').pop()}:${f.lineNumber}`;
        self.set(k, (self.get(k) ?? 0) + (dt[i + 1] ?? 0) / 1000);
      });
      const total = [...self.values()].reduce((a, b) => a + b, 0);
      log(`profile ${name}: ${total.toFixed(0)} ms sampled; most self time:`);
      for (const [k, ms] of [...self].sort((a, b) => b[1] - a[1]).slice(0, 25)) log(`  ${ms.toFixed(0).padStart(6)} ms  ${k}`);
    },
  };
}

// tracer: with BENCH_TRACE=DIR, a Chromium trace (CDP Tracing) of the page
// from the cold navigation to the first image, written to DIR and
// summarised: the renderer main thread's top-level work by event, the
// module compiles and evaluations by script.
async function tracer(context, page, run) {
  const dir = process.env.BENCH_TRACE;
  if (!dir) return { stop: async () => {} };
  const cdp = await context.newCDPSession(page);
  const events = [];
  cdp.on('Tracing.dataCollected', (e) => events.push(...e.value));
  const ended = new Promise((ok) => cdp.once('Tracing.tracingComplete', ok));
  await cdp.send('Tracing.start', {
    transferMode: 'ReportEvents',
    // BENCH_TRACE_LOAD=1: on to every slice loaded, with V8's samples of
    // every thread (the series retrieve's workers too).
    traceConfig: { includedCategories: ['devtools.timeline', 'v8', 'v8.execute', 'blink.user_timing', 'loading', 'disabled-by-default-devtools.timeline', ...(process.env.BENCH_TRACE_LOAD ? ['disabled-by-default-v8.cpu_profiler'] : [])] },
  });
  return {
    // stop ends the trace and summarises it up to until (ms after the
    // navigation, or after the page's performance mark named from: an
    // in-app opening).
    async stop(until, from = '') {
      await cdp.send('Tracing.end');
      await ended;
      writeFileSync(join(dir, `lightbox-${from ? 'warm' : 'cold'}-${run}.json`), JSON.stringify({ traceEvents: events }));
      // The page's main thread: the renderer's CrRendererMain.
      const names = new Map(events.filter((e) => e.name === 'thread_name').map((e) => [`${e.pid}/${e.tid}`, e.args.name]));
      const navs = events.filter((e) => e.name === 'navigationStart');
      const nav = from ? events.find((e) => e.name === from && e.cat?.includes('blink.user_timing'))
        : navs.find((e) => String(e.args?.data?.documentLoaderURL ?? '').includes('/case/')) ?? navs[0];
      const main = events.filter((e) => names.get(`${e.pid}/${e.tid}`) === 'CrRendererMain' && e.ph === 'X' && e.dur);
      const t0 = nav?.ts ?? Math.min(...main.map((e) => e.ts));
      const upto = t0 + until * 1000;
      const inRange = main.filter((e) => e.ts >= t0 && e.ts <= upto);
      const by = new Map();
      const add = (k, d) => by.set(k, (by.get(k) ?? 0) + d / 1000);
      const scriptOf = (e) => (e.args?.data?.url ?? e.args?.fileName ?? e.args?.data?.fileName ?? '').split('/').pop();
      for (const e of inRange) {
        if (/compile|evaluate|EvaluateScript|ParseHTML|MajorGC|MinorGC|GC|FunctionCall|TimerFire|EventDispatch|FireAnimationFrame|RunMicrotasks|XHRReadyStateChange|Layout|Paint|UpdateLayoutTree/i.test(e.name)) {
          add(`${e.name} ${/compile|evaluate|EvaluateScript/i.test(e.name) ? scriptOf(e) : ''}`.trim(), e.dur);
        }
      }
      const tasks = inRange.filter((e) => e.name === 'RunTask' || e.name === 'ThreadControllerImpl::RunTask');
      const busy = tasks.reduce((a, e) => a + e.dur / 1000, 0);
      log(`trace ${run}: main thread busy ${busy.toFixed(0)} of ${until.toFixed(0)} ms in tasks; by event (ms, nested events counted in each):`);
      for (const [k, ms] of [...by].sort((a, b) => b[1] - a[1]).slice(0, 30)) if (ms >= 2) log(`  ${ms.toFixed(0).padStart(6)} ms  ${k}`);
      // The long tasks, in order: what held the page when.
      for (const e of tasks.filter((e) => e.dur >= 30000)) log(`  task ${((e.ts - t0) / 1000).toFixed(0).padStart(5)} → ${((e.ts + e.dur - t0) / 1000).toFixed(0).padStart(5)} ms`);
    },
  };
}

async function lightbox(run = 1) {
  const full = run === 1;
  const b = await launch();
  try {
    const page = b.context.pages()[0] ?? (await b.context.newPage());
    page.setDefaultTimeout(300000); // a busy machine: the bench measures, it does not time out
    await page.addInitScript(probe);
    const m = await meter(b.context, page);
    // RENDER (cpu, gpu): the stack viewports' path, else the viewer's own
    // choice (cornerstone.ts: CPU where WebGL is software-emulated).
    const caseURL = `${lb}/case/${encodeURIComponent(study)}${process.env.RENDER ? `?render=${process.env.RENDER}` : ''}`;
    if (process.env.BENCH_CONSOLE) page.on('console', (msg) => log('console:', msg.text().slice(0, 300)));
    await signInCoordinator(page, lb);
    // The bench reads the study alone (OHIF shows one viewport): the
    // reader's hanging for CT is set to a single pane first.
    await page.goto(caseURL, { waitUntil: 'commit' });
    // The choice is saved for the protocol's key (modality, body part),
    // known once the case has hung (data-protocol set): chosen before, it
    // was saved under no key and the CT still hung beside its prior. It is
    // saved before signing out: when the save lost that race the cold
    // opening hung the prior beside (two half-width panes, about half the
    // pixels per step: the per-slice median swung 22-46 ms between runs).
    await page.locator('[data-testid="viewer-grid"][data-protocol]:not([data-protocol=""])').waitFor({ timeout: 120000 });
    await Promise.all([
      page.waitForResponse((r) => r.url().endsWith('/api/preferences') && r.request().method() === 'PUT'),
      page.getByLabel('Hanging protocol').selectOption('single'),
    ]);
    await page.waitForTimeout(500);
    // Signing out empties the image cache: the next opening is cold.
    await page.getByRole('button', { name: 'Sign out' }).click();
    await page.getByRole('button', { name: 'Sign in' }).waitFor();
    await signInCoordinator(page, lb);
    m.reset();
    const prof = await profiler(b.context, page);
    const cpu0 = browserCPU();
    const trace = await tracer(b.context, page, run);
    await page.goto(caseURL, { waitUntil: 'commit' });
    const cold = await firstRender(page);
    const firstCPU = cpuSince(cpu0);
    log(`lightbox: browser CPU from the click to the first image (ms): ${JSON.stringify(firstCPU)}`);
    if (!process.env.BENCH_TRACE_LOAD) await trace.stop(cold);
    await timeline(page, cold);
    const hanging = await page.evaluate(() => `${document.querySelector('[data-testid=viewer-grid]')?.dataset.protocol}, ${document.querySelectorAll('[data-testid^=pane-]').length} panes`);
    log(`lightbox: hanging ${hanging}`);
    // The stack viewports' rendering path the viewer chose (cornerstone.ts).
    const render = await page.evaluate(() => window.__lightboxRender);
    log(`lightbox: stack rendering ${render?.path ?? '?'} (${render?.why ?? 'not reported'})`);
    // All slices: every image of the stack decoded in the viewer's cache
    // (Lightbox fetches native series in one request, so frame responses
    // no longer count them).
    const all = await page.waitForFunction((n) => {
      const v = window.__lightboxViewer;
      return v && v.loaded(0) >= n ? performance.now() : 0;
    }, slices, { polling: 20, timeout: 600000 }).then((h) => h.jsonValue());
    const loadCPU = cpuSince(cpu0);
    if (process.env.BENCH_TRACE_LOAD) await trace.stop(cold);
    log(`lightbox: browser CPU from the click to all slices loaded (ms): ${JSON.stringify(loadCPU)}`);
    await prof.stop('load');
    log('  marks:', (await page.evaluate(() => performance.getEntriesByType('mark').map((e) => `${e.name.replace('lightbox:', '')} ${e.startTime.toFixed(0)}`))).join(', '));
    await page.waitForTimeout(500);
    // The series retrieve runs in a worker, whose requests this page's CDP
    // session does not see: the viewer counts its bytes (parts' bodies).
    const coldBytes = m.bytes + (await page.evaluate(() => window.__lightboxCache?.().bulkBytes ?? 0));
    const frameRequests = m.frames;
    log(`lightbox: cold first image ${cold.toFixed(0)} ms, all ${slices} slices decoded ${all.toFixed(0)} ms (${frameRequests} frame requests), ${(coldBytes / 1e6).toFixed(1)} MB`);
    if (!full) return { cold, all, frameRequests, bytes: coldBytes, perSlice: [], firstCPU, loadCPU, hanging };
    // Stepping through loaded slices.
    await page.getByTestId('pane-0').click();
    await page.getByTestId('viewer-grid').focus();
    await prof.start();
    const cpu1 = browserCPU();
    const perSlice = await step(page, steps);
    const stepCPU = cpuSince(cpu1).total / steps;
    log(`lightbox: browser CPU per step ${stepCPU.toFixed(1)} ms`);
    await prof.stop('steps');
    // Prefetched: the frames are in the local cache; open the case again in-app
    // (LIGHTBOX_WARM=n times, each from the board; the first is reported,
    // all n logged with their median).
    const warms = [];
    let warmFrameRequests = 0;
    for (let i = 0; i < Math.max(1, Number(process.env.LIGHTBOX_WARM || 1)); i++) {
      await page.evaluate(() => {
        history.pushState(null, '', '/board');
        dispatchEvent(new PopStateEvent('popstate'));
      });
      await page.waitForTimeout(1000);
      m.reset();
      const wtrace = i === 0 ? await tracer(b.context, page, run) : null;
      if (i === 0) await prof.start();
      const t1 = await page.evaluate((u) => {
        window.__bench.renders = [];
        window.__bench.images = [];
        performance.mark('bench:warm');
        const t = performance.now();
        history.pushState(null, '', u);
        dispatchEvent(new PopStateEvent('popstate'));
        return t;
      }, new URL(caseURL).pathname + new URL(caseURL).search);
      const w = (await firstRender(page)) - t1;
      if (i === 0) {
        await wtrace.stop(w, 'bench:warm');
        await prof.stop('warm');
        await timeline(page, w + t1, t1);
        warmFrameRequests = m.frames;
      }
      log(`lightbox: prefetched first image ${w.toFixed(0)} ms with ${m.frames} frame requests`);
      warms.push(w);
    }
    const warm = warms[0];
    if (warms.length > 1) log(`lightbox: prefetched openings ${warms.map((w) => w.toFixed(0)).join(', ')} ms, median ${pct(warms, 50).toFixed(0)} ms`);
    return { cold, warm, warms, warmFrameRequests, all, frameRequests, bytes: coldBytes, perSlice, firstCPU, loadCPU, stepCPU, hanging };
  } finally {
    await b.close();
  }
}

async function ohif(origin) {
  const b = await launch();
  try {
    const page = b.context.pages()[0] ?? (await b.context.newPage());
    page.setDefaultTimeout(300000);
    await signInCoordinator(page, lb); // the session cookie for 127.0.0.1
    await page.addInitScript(probe);
    const m = await meter(b.context, page);
    m.reset();
    const t0 = Date.now();
    await page.goto(`${origin}/viewer?StudyInstanceUIDs=${encodeURIComponent(study)}`, { waitUntil: 'commit' });
    const cold = await firstRender(page);
    const all = await waitFrames(m, t0);
    const bytes = m.bytes;
    log(`ohif: cold first image ${cold.toFixed(0)} ms, all ${m.frames} frames ${all} ms, ${(bytes / 1e6).toFixed(1)} MB`);
    // OHIF's first-visit tour covers the page: Escape ends it; the first
    // viewport is the active one, where the arrow keys step.
    await page.keyboard.press('Escape');
    await page.waitForTimeout(300);
    const perSlice = await step(page, steps);
    return { cold, all, bytes, perSlice };
  } finally {
    await b.close();
  }
}

const res = { slices, steps, lightbox: await lightbox() };
const runs = Number(process.env.LIGHTBOX_RUNS || 1);
if (runs > 1) {
  const more = [res.lightbox];
  for (let i = 2; i <= runs; i++) more.push(await lightbox(i));
  log(`lightbox runs: cold first image ${more.map((r) => r.cold.toFixed(0)).join(', ')} ms (renderer CPU ${more.map((r) => r.firstCPU.renderer).join(', ')} ms, all processes ${more.map((r) => r.firstCPU.total).join(', ')} ms); all slices ${more.map((r) => (r.all / 1000).toFixed(2)).join(', ')} s`);
  res.lightboxRuns = more.map((r) => ({ cold: Math.round(r.cold), all: Math.round(r.all), firstCPU: r.firstCPU }));
}
if (ohifDist) {
  const srv = await ohifServer(ohifDist);
  try {
    res.ohif = await ohif(`http://127.0.0.1:${srv.address().port}`);
  } catch (e) {
    log('ohif failed:', e.message);
  } finally {
    srv.close();
  }
}

const row = (name, r) => {
  if (!r) return `${name.padEnd(10)} (not run)`;
  const ps = r.perSlice;
  return `${name.padEnd(10)} first image cold ${r.cold.toFixed(0)} ms${r.warm !== undefined ? `, prefetched ${r.warm.toFixed(0)} ms (${r.warmFrameRequests} frame requests)` : ''}; all ${slices} ${r.frameRequests !== undefined ? `decoded ${r.all.toFixed(0)} ms (${r.frameRequests} frame requests)` : `frames ${r.all} ms`}; per slice median ${pct(ps, 50)?.toFixed(1)} ms p95 ${pct(ps, 95)?.toFixed(1)} ms (${ps.length} steps); ${(r.bytes / 1e6).toFixed(1)} MB on the wire`;
};
console.log(row('Lightbox', res.lightbox));
console.log(row('OHIF', res.ohif));
if (res.ohif) {
  const l = res.lightbox, o = res.ohif;
  console.log(`ratios Lightbox/OHIF: first image ${(l.cold / o.cold).toFixed(2)}, all frames ${(l.all / o.all).toFixed(2)}, per-slice median ${(pct(l.perSlice, 50) / pct(o.perSlice, 50)).toFixed(2)} p95 ${(pct(l.perSlice, 95) / pct(o.perSlice, 95)).toFixed(2)}, bytes ${(l.bytes / o.bytes).toFixed(2)}`);
}
console.log(JSON.stringify({ ...res, lightbox: { ...res.lightbox, perSlice: undefined, median: pct(res.lightbox.perSlice, 50), p95: pct(res.lightbox.perSlice, 95) }, ohif: res.ohif && { ...res.ohif, perSlice: undefined, median: pct(res.ohif.perSlice, 50), p95: pct(res.ohif.perSlice, 95) } }));
