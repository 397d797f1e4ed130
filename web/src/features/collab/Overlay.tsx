import { useEffect, useState } from 'react';
import { viewer, type ViewState } from '../viewer/bridge';

// Overlay draws, over the follower's first pane, the presenter's pointer
// and length measurements.
export function Overlay({ pointer, view }: { pointer: [number, number, number] | null; view: ViewState | null }) {
  const [, tick] = useState(0);
  useEffect(() => {
    const t = setInterval(() => tick((n) => n + 1), 200); // follow resizes and camera moves
    return () => clearInterval(t);
  }, []);
  const h = viewer();
  const el = h?.element();
  if (!h || !el) return null;
  const r = el.getBoundingClientRect();
  const p = pointer ? h.worldToCanvas(pointer) : null;
  const lines = (view?.lengths ?? []).flatMap((l, i) => {
    const a = h.imageToCanvas(l.points[0][0], l.points[0][1]);
    const b = h.imageToCanvas(l.points[1][0], l.points[1][1]);
    return a && b ? [{ a, b, label: `${l.value} ${l.unit}`, i }] : [];
  });
  return (
    <svg className="share-overlay" style={{ left: r.left, top: r.top, width: r.width, height: r.height }} aria-hidden="true">
      {lines.map(({ a, b, label, i }) => (
        <g key={i}>
          <line x1={a[0]} y1={a[1]} x2={b[0]} y2={b[1]} className="share-length" />
          <text x={b[0] + 4} y={b[1]} className="share-label">{label}</text>
        </g>
      ))}
      {p && <circle cx={p[0]} cy={p[1]} r={7} className="share-pointer" data-testid="share-pointer" />}
    </svg>
  );
}
