// The viewer (Cornerstone3D, its decoders) loads as its own chunk, so the
// login and the worklist stay light; the worklist preloads it once the
// browser is idle, so the first case does not wait for it either.
import { useEffect, useState } from 'react';
import type { DicomJSON } from '../../api/types';
import { tag } from '../../api/client';
import { firstSeries, openCase, openFirst } from './metadata';
import { caseOpening } from './frames';

type ViewerModule = typeof import('./Viewer');

let loading: Promise<ViewerModule> | null = null;
// The module once evaluated: a viewer mounting after it renders at once.
let loaded: ViewerModule | null = null;
const load = () => (loading ??= import('./Viewer').then((m) => (loaded = m)));

// preloadViewer fetches and evaluates the viewer's code in idle time. It
// does not start Cornerstone: its decoder workers starting at idle made
// the first click slower on 2 cores (bench/README.md).
export function preloadViewer() {
  const idle = window.requestIdleCallback ?? ((f: () => void) => window.setTimeout(f, 1000));
  idle(() => void load().catch(() => (loading = null)));
}

// startCase is called the moment a case is asked for (the app's first
// lines for a /case/ address, a worklist click), before the case page has
// rendered or the session is known: the series list, the opening series'
// metadata and frame go out first; then the viewer's code (a few MB,
// blocking the page while it is evaluated) loads and Cornerstone starts
// with its rendering engine while the frame is on the wire. Evaluated
// earlier, the code held the metadata's sorting, and so the frame's
// request, back by its whole evaluation; a slow metadata answer does not
// hold the code back for more than metadataWait. The chunks are preloaded
// now (preloadChunks), so what the wait saves is their evaluation in front
// of the frame's request: at 250 ms a metadata answer of 351 ms let the
// evaluation go first and the frame went out at 708 ms instead of 318 ms
// (bench/README.md, 2026-12-07).
const metadataWait = 600;

// preloadChunks fetches and parses the viewer's chunks (named by the build
// in index.html: vite.config.ts viewerChunks) without evaluating them: the
// reading (from the disk cache: 45-470 ms for Cornerstone's 3 MB on a
// busy machine) and the parse run off the page's thread while the case's
// first requests are on the wire, and the import below finds the modules
// ready. The viewer's stylesheet is applied at once: the import would
// otherwise wait for it. Once per page.
let preloaded = false;

function preloadChunks() {
  if (preloaded || loading) return;
  preloaded = true;
  const files = document.querySelector<HTMLMetaElement>('meta[name="lightbox-viewer"]')?.content.split(' ').filter(Boolean) ?? [];
  for (const href of files) {
    const l = document.createElement('link');
    l.rel = href.endsWith('.css') ? 'stylesheet' : 'modulepreload';
    l.crossOrigin = '';
    l.href = href;
    document.head.appendChild(l);
  }
}

// opened resolves once the opening frame's request is out, or after
// metadataWait: the viewer's code is evaluated only then.
function opened(p: Promise<unknown>): Promise<unknown> {
  return Promise.race([p.catch(() => undefined), new Promise((ok) => setTimeout(ok, metadataWait))]);
}

export function startCase(study: string) {
  performance.mark('lb:case');
  caseOpening();
  preloadChunks();
  // Not signed in yet, or not in scope: the case page asks again.
  opened(openCase(study))
    .then(() => load())
    .then((m) => {
      performance.mark('lb:chunk');
      return m.warmViewer();
    })
    .catch(() => (loading = null));
}

export function LazyViewer(props: { study: string; series: DicomJSON[] }) {
  // The first series' metadata comes in while the chunk loads, and the
  // frame the viewer opens on with it (metadata.ts openFirst); startCase
  // has usually asked already, and the caches make this a no-op then.
  const first = firstSeries(props.series);
  const firstUID = first ? tag(first, '0020000E') : '';
  // The viewer's code (Cornerstone, a few MB) blocks the page for hundreds
  // of milliseconds while it is evaluated: it is asked for once those
  // requests are out, or after a moment when the study has no series.
  const [start, setStart] = useState(() => loading !== null);
  // The viewer's module, rendered as a plain component once it is in: not
  // React.lazy under Suspense, whose boundary, once it had shown its
  // fallback, held the loaded viewer back until 300 ms after that (React's
  // throttle of Suspense reveals): the page sat idle for up to 260 ms in
  // front of a cold case's first image (bench/README.md, session 10).
  const [mod, setMod] = useState<ViewerModule | null>(() => loaded);
  const [failed, setFailed] = useState('');
  useEffect(() => {
    if (!start || mod) return;
    let alive = true;
    load().then((m) => alive && setMod(m), (e: unknown) => {
      loading = null;
      if (alive) setFailed(String(e));
    });
    return () => {
      alive = false;
    };
  }, [start, mod]);
  useEffect(() => {
    if (!first) {
      const t = setTimeout(() => setStart(true), 300);
      return () => clearTimeout(t);
    }
    // Rendered earlier, the viewer imported its code in front of the
    // metadata's sorting and the frame's request (seen in the bench's traces).
    let alive = true;
    void opened(openFirst(props.study, first)).then(() => alive && setStart(true));
    return () => {
      alive = false;
    };
    // first is read by its UID: a new list of the same series changes nothing.
    // eslint-disable-next-line react-hooks/exhaustive-deps
  }, [props.study, firstUID]);
  if (start && mod) return <mod.Viewer {...props} />;
  return (
    <section className="viewer" aria-label="Viewer">
      {failed ? <p className="error">The viewer could not load: {failed}</p> : <p className="muted">Loading the viewer…</p>}
    </section>
  );
}
