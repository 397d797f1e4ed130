import { useMemo, useState } from 'react';
import { api } from '../../api/client';
import type { SimAhead } from '../../api/types';
import { Chart, palette } from './Chart';
import { DataTable } from './DataTable';
import { Kpi } from './Kpi';
import { classOrder } from './shape';

// SimulatePanel: one click runs the coming week's roster (weekly shifts,
// one-off changes, absences) against the past week's volume on the server
// (internal/simulate) and shows the predicted TAT and breaches.
export function SimulatePanel() {
  const [sim, setSim] = useState<SimAhead | null>(null);
  const [busy, setBusy] = useState(false);
  const [error, setError] = useState('');
  const run = async () => {
    setBusy(true);
    setError('');
    try {
      setSim(await api.simulateAhead(7));
    } catch (e) {
      setError((e as Error).message);
    } finally {
      setBusy(false);
    }
  };
  const res = sim?.result;
  const classes = useMemo(() => (res ? classOrder.filter((c) => res.tat_minutes[c]?.n > 0) : []), [res]);
  const x = useMemo(() => classes.map((_, i) => i), [classes]);
  const series = useMemo(() => res ? [
    { label: 'p50 min', values: classes.map((c) => res.tat_minutes[c].p50), color: palette[0], bars: true },
    { label: 'p95 min', values: classes.map((c) => res.tat_minutes[c].p95), color: palette[2] },
  ] : [], [res, classes]);
  const hx = useMemo(() => (res?.tat_by_hour ?? []).map((h) => h.hour), [res]);
  const hours = useMemo(() => hx.map((h) => `${h}:00`), [hx]);
  const hourSeries = useMemo(() => res ? [
    { label: 'urgent p50 min', values: res.tat_by_hour.map((h) => h.urgent_p50), color: palette[3] },
    { label: 'all p50 min', values: res.tat_by_hour.map((h) => h.all_p50), color: palette[0] },
  ] : [], [res]);
  return (
    <section className="panel" aria-labelledby="sim-title">
      <div className="toolbar">
        <h2 id="sim-title">Next 7 days, simulated</h2>
        <span className="spacer" />
        <button type="button" className="primary" onClick={() => void run()} disabled={busy}>{busy ? 'Simulating…' : 'Simulate next week'}</button>
      </div>
      <p className="muted small">The roster of the coming 7 days against the volume of the past 7, replayed by the assignment engine.</p>
      {error && <p role="alert" className="banner">{error}</p>}
      {res && (
        <div data-testid="sim-result">
          <div className="kpis">
            <Kpi label="Studies" value={res.studies} />
            <Kpi label="Readers on duty" value={`${res.readers_on_duty} / ${res.readers}`} />
            <Kpi label="Predicted breaches" value={`${res.sla_breach_pct}%`} warn={res.sla_breach_pct > 0} />
            <Kpi label="Uncovered" value={res.uncovered} warn />
          </div>
          <Chart title="Predicted first-read TAT by priority (minutes)" x={x} time={false} categories={classes.map((c) => c.toUpperCase())} series={series} yLabel="minutes" />
          <Chart title="Predicted TAT by hour of arrival (America/New_York)" x={hx} time={false} categories={hours} series={hourSeries} height={160} />
          <DataTable label="Predicted TAT by priority" file="simulated-tat.csv"
            header={['Priority', 'Studies', 'p50 min', 'p95 min', 'Breach %']}
            rows={classes.map((c) => [c, res.tat_minutes[c].n, res.tat_minutes[c].p50, res.tat_minutes[c].p95, res.sla_breach_pct_by_priority[c] ?? 0])} />
          {res.uncovered_examples && res.uncovered_examples.length > 0 && (
            <details><summary>Uncovered examples</summary><ul>{res.uncovered_examples.map((u) => <li key={u}>{u}</li>)}</ul></details>
          )}
        </div>
      )}
    </section>
  );
}
