// The viewer (Cornerstone3D, its decoders) loads as its own chunk when the
// first case opens, so the login and the worklist stay light.
import { lazy, Suspense } from 'react';
import type { DicomJSON } from '../../api/types';

const Viewer = lazy(() => import('./Viewer').then((m) => ({ default: m.Viewer })));

export function LazyViewer(props: { study: string; series: DicomJSON[] }) {
  return (
    <Suspense fallback={<section className="viewer" aria-label="Viewer"><p className="muted">Loading the viewer…</p></section>}>
      <Viewer {...props} />
    </Suspense>
  );
}
