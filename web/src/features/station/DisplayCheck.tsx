import { useEffect, useRef, useState } from 'react';
import { api } from '../../api/client';
import { drawPattern } from './pattern';

const items = [
  ['steps', 'I can tell all 18 grey steps apart'],
  ['low5', 'I see the 5 % square inside the black box'],
  ['high95', 'I see the 95 % square inside the white box'],
  ['linepairs', 'The line pairs at the centre and in each corner are distinct'],
  ['ruler', 'The ruler is sharp, ticks evenly spaced (no scaling blur)'],
] as const;

// DisplayCheck draws the test pattern at device-pixel resolution and
// records the reader's pass/fail with the screen the browser reports.
export function DisplayCheck() {
  const canvas = useRef<HTMLCanvasElement>(null);
  const [seen, setSeen] = useState<Record<string, boolean>>({});
  const [status, setStatus] = useState('');
  useEffect(() => {
    api.latestCheck('display').then((r) => setStatus(`Last check: ${r.check.passed ? 'passed' : 'failed'} ${new Date(r.check.at!).toLocaleString('en-GB')}${r.within_24h ? '' : ' (older than 24 h)'}`)).catch(() => setStatus('No display check recorded yet.'));
  }, []);
  useEffect(() => {
    const c = canvas.current;
    if (!c) return;
    const dpr = window.devicePixelRatio || 1;
    const w = c.clientWidth;
    const h = c.clientHeight;
    c.width = Math.round(w * dpr);
    c.height = Math.round(h * dpr);
    const ctx = c.getContext('2d');
    if (!ctx) return;
    ctx.scale(dpr, dpr);
    drawPattern(ctx, w, h, dpr);
  }, []);
  const passed = items.every(([k]) => seen[k]);
  const record = async () => {
    const r = await api.recordCheck({
      kind: 'display', passed, seen, screen_width: screen.width, screen_height: screen.height, pixel_ratio: window.devicePixelRatio,
    });
    setStatus(`Recorded: ${r.passed ? 'passed' : 'failed'} (${screen.width}×${screen.height}, pixel ratio ${window.devicePixelRatio})`);
  };
  return (
    <section className="panel" aria-labelledby="display-title">
      <h2 id="display-title">Display check</h2>
      <p className="muted small">Daily, before reading: view full-screen at 100 % zoom. Mammography can require a pass within 24 h.</p>
      <canvas ref={canvas} className="pattern" aria-label="Display test pattern" />
      <fieldset>
        <legend>What I see</legend>
        {items.map(([k, label]) => (
          <label key={k}>
            <input type="checkbox" checked={!!seen[k]} onChange={(e) => setSeen({ ...seen, [k]: e.target.checked })} /> {label}
          </label>
        ))}
      </fieldset>
      <div className="row">
        <button className="primary" onClick={() => void record()}>Record {passed ? 'pass' : 'fail'}</button>
        <span role="status" className="small">{status}</span>
      </div>
    </section>
  );
}
