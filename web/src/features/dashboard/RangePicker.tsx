// RangePicker: a from–to pair of UTC days with quick ranges.
import { daysBefore } from './csv';

export interface Range {
  from: string;
  to: string;
}

export function defaultRange(): Range {
  return { from: daysBefore(6), to: daysBefore(0) };
}

export function RangePicker({ value, onChange }: { value: Range; onChange: (r: Range) => void }) {
  const quick = (n: number) => onChange({ from: daysBefore(n - 1), to: daysBefore(0) });
  return (
    <div className="row range" role="group" aria-label="Date range">
      <label>From <input type="date" value={value.from} max={value.to} onChange={(e) => e.target.value && onChange({ ...value, from: e.target.value })} /></label>
      <label>To <input type="date" value={value.to} min={value.from} onChange={(e) => e.target.value && onChange({ ...value, to: e.target.value })} /></label>
      <button type="button" onClick={() => quick(1)}>Today</button>
      <button type="button" onClick={() => quick(7)}>7 days</button>
      <button type="button" onClick={() => quick(30)}>30 days</button>
      <span className="muted small">UTC days</span>
    </div>
  );
}
