// The viewer (Cornerstone3D, its decoders) loads as its own chunk, so the
// login and the worklist stay light; the worklist preloads it once the
// browser is idle, so the first case does not wait for it either.
import { lazy, Suspense, useEffect, useState } from 'react';
import type { DicomJSON } from '../../api/types';
import { tag } from '../../api/client';
import { firstSeries, openSeries, seriesMetadata } from './metadata';

let loading: Promise<typeof import('./Viewer')> | null = null;
const load = () => (loading ??= import('./Viewer'));

const Viewer = lazy(() => load().then((m) => ({ default: m.Viewer })));

// preloadViewer fetches and evaluates the viewer's code in idle time.
export function preloadViewer() {
  const idle = window.requestIdleCallback ?? ((f: () => void) => window.setTimeout(f, 1000));
  idle(() => void load().catch(() => (loading = null)));
}

export function LazyViewer(props: { study: string; series: DicomJSON[] }) {
  // The first series' metadata comes in while the chunk loads, and the
  // frame the viewer opens on with it where the hanging starts with that
  // series in one pane (Viewer.tsx: not MR 2×2 or mammography 4-up).
  const first = firstSeries(props.series);
  const firstUID = first ? tag(first, '0020000E') : '';
  const opensAlone = first ? !['MR', 'MG'].includes(tag(first, '00080060')) : false;
  // The viewer's code (Cornerstone, a few MB) blocks the page for hundreds
  // of milliseconds while it is evaluated: it is asked for once those
  // requests are out, or after a moment when the study has no series.
  const [start, setStart] = useState(false);
  useEffect(() => {
    if (!firstUID) {
      const t = setTimeout(() => setStart(true), 300);
      return () => clearTimeout(t);
    }
    (opensAlone ? openSeries(props.study, firstUID) : seriesMetadata(props.study, firstUID)).catch(() => {});
    setStart(true);
  }, [props.study, firstUID, opensAlone]);
  const fallback = <section className="viewer" aria-label="Viewer"><p className="muted">Loading the viewer…</p></section>;
  return start ? <Suspense fallback={fallback}><Viewer {...props} /></Suspense> : fallback;
}
