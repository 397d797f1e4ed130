import { useEffect, useState } from 'react';
import { viewer, type ViewState } from '../viewer/bridge';

// Overlay draws, over the follower's first pane, the presenter's pointer
// and measurements: lengths and angles as lines, ellipses and rectangles
// within their handles' box, probes as a cross, each with its label.
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
  const marks = (view?.marks ?? []).flatMap((m, i) => {
    const pts = m.points.map(([c, row]) => h.imageToCanvas(c, row));
    if (pts.some((q) => !q)) return [];
    const xy = pts as [number, number][];
    const xs = xy.map((q) => q[0]);
    const ys = xy.map((q) => q[1]);
    const box = { x0: Math.min(...xs), y0: Math.min(...ys), x1: Math.max(...xs), y1: Math.max(...ys) };
    return [{ m, xy, box, i }];
  });
  return (
    <svg className="share-overlay" style={{ left: r.left, top: r.top, width: r.width, height: r.height }} aria-hidden="true">
      {marks.map(({ m, xy, box, i }) => (
        <g key={i} data-testid={`share-${m.tool}`}>
          {(m.tool === 'length' || m.tool === 'angle') && <polyline points={xy.map((q) => q.join(',')).join(' ')} className="share-length" />}
          {m.tool === 'ellipse' && (
            <ellipse cx={(box.x0 + box.x1) / 2} cy={(box.y0 + box.y1) / 2} rx={(box.x1 - box.x0) / 2} ry={(box.y1 - box.y0) / 2} className="share-length" />
          )}
          {m.tool === 'rect' && <rect x={box.x0} y={box.y0} width={box.x1 - box.x0} height={box.y1 - box.y0} className="share-length" />}
          {m.tool === 'probe' && <path d={`M${xy[0][0] - 6},${xy[0][1]}h12M${xy[0][0]},${xy[0][1] - 6}v12`} className="share-length" />}
          <text x={box.x1 + 4} y={box.y1} className="share-label">{m.label}</text>
        </g>
      ))}
      {p && <circle cx={p[0]} cy={p[1]} r={7} className="share-pointer" data-testid="share-pointer" />}
    </svg>
  );
}
