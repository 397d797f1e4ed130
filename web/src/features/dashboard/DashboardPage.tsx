import { useCallback, useEffect, useMemo, useState } from 'react';
import { api } from '../../api/client';
import type { ClassTAT, ReaderDay, VolumeRow } from '../../api/types';
import { Chart, palette } from './Chart';
import { DataTable } from './DataTable';
import { defaultRange, RangePicker, type Range } from './RangePicker';
import { byFacilityTotals, readerRates, sortClasses, volumeByHour } from './shape';
import { Kpi } from './Kpi';
import { SimulatePanel } from './SimulatePanel';
import { QualityPanels } from './QualityPanels';

// DashboardPage: the group's numbers for a date range — volume by hour and
// facility, first-read TAT per priority against the SLA with breaches,
// RVU per reader against target, critical-result compliance and
// prelim→final discrepancies — each chart with its table and CSV, and
// the coming week simulated on demand.
// ofSLA is a turnaround as a percentage of its SLA.
const ofSLA = (m: number | undefined, sla: number) => (m === undefined || sla <= 0 ? null : Math.round((m / sla) * 1000) / 10);

export function DashboardPage() {
  const [range, setRange] = useState<Range>(defaultRange);
  const [volume, setVolume] = useState<VolumeRow[] | null>(null);
  const [tat, setTat] = useState<ClassTAT[] | null>(null);
  const [rvu, setRvu] = useState<ReaderDay[] | null>(null);
  const [error, setError] = useState('');
  const fail = useCallback((e: Error) => setError(e.message), []);
  useEffect(() => {
    setError('');
    api.volume(range.from, range.to).then((v) => setVolume(v.rows), fail);
    api.tat(range.from, range.to).then((v) => setTat(sortClasses(v.classes)), fail);
    api.rvu(range.from, range.to).then((v) => setRvu(v.rows), fail);
  }, [range, fail]);

  const vol = useMemo(() => volumeByHour(volume ?? [], range.from, range.to), [volume, range]);
  const volSeries = useMemo(() => [
    { label: 'All facilities', values: vol.total, color: palette[0], bars: true },
    ...vol.byFacility.map((f, i) => ({ label: f.id, values: f.values, color: palette[i + 1] })),
  ], [vol]);
  const totals = useMemo(() => byFacilityTotals(volume ?? []), [volume]);
  const classes = useMemo(() => tat ?? [], [tat]);
  const cx = useMemo(() => classes.map((_, i) => i), [classes]);
  const cats = useMemo(() => classes.map((c) => c.class.toUpperCase()), [classes]);
  // as a share of each priority's SLA, so a 20-minute stroke SLA and a
  // 24-hour routine one read on the same axis
  const tatSeries = useMemo(() => [
    { label: 'p50 % of SLA', values: classes.map((c) => ofSLA(c.tat_minutes.p50, c.sla_minutes)), color: palette[0], bars: true },
    { label: 'p90 % of SLA', values: classes.map((c) => ofSLA(c.tat_minutes.p90, c.sla_minutes)), color: palette[2] },
    { label: 'SLA', values: classes.map(() => 100), color: palette[3], dash: true },
  ], [classes]);
  const breachSeries = useMemo(() => [{ label: 'breach %', values: classes.map((c) => c.breach_pct), color: palette[3], bars: true }], [classes]);
  const rates = useMemo(() => readerRates(rvu ?? []), [rvu]);
  const rx = useMemo(() => rates.map((_, i) => i), [rates]);
  const rcats = useMemo(() => rates.map((r) => r.reader), [rates]);
  const rvuSeries = useMemo(() => [
    { label: 'RVU / h', values: rates.map((r) => r.rate), color: palette[1], bars: true },
    { label: 'target', values: rates.map((r) => r.target), color: palette[2], dash: true },
  ], [rates]);

  return (
    <main aria-labelledby="dash-title" className="dashboard">
      <div className="toolbar">
        <h1 id="dash-title">Dashboard</h1>
        <RangePicker value={range} onChange={setRange} />
      </div>
      {error && <p role="alert" className="banner">{error}</p>}
      <div className="kpis" aria-label="Summary">
        <Kpi label="Studies arrived" value={(volume ?? []).reduce((a, r) => a + r.studies, 0)} />
        <Kpi label="First reads" value={classes.reduce((a, c) => a + c.tat_minutes.n, 0)} />
        <Kpi label="SLA breaches" value={classes.reduce((a, c) => a + c.breaches, 0)} warn />
        <Kpi label="Readers who signed" value={rates.length} />
      </div>
      <div className="grid2">
        <section className="panel" aria-labelledby="vol-title">
          <h2 id="vol-title">Volume by hour</h2>
          <Chart title="Studies per hour (UTC), all and busiest facilities" x={vol.x} series={volSeries} yLabel="studies" />
          <DataTable label="Volume by facility" file="volume-by-facility.csv" header={['Facility', 'Studies']} rows={totals} />
        </section>
        <section className="panel" aria-labelledby="tat-title">
          <h2 id="tat-title">Turnaround by priority</h2>
          <Chart title="First-read TAT against SLA (% of each priority's SLA)" x={cx} time={false} categories={cats} series={tatSeries} yLabel="% of SLA" />
          <Chart title="SLA breaches by priority (%)" x={cx} time={false} categories={cats} series={breachSeries} height={140} />
          <DataTable label="TAT by priority" file="tat-by-priority.csv"
            header={['Priority', 'Reads', 'p50 min', 'p90 min', 'p95 min', 'SLA min', 'Breaches', 'Breach %']}
            rows={classes.map((c) => [c.class, c.tat_minutes.n, c.tat_minutes.p50, c.tat_minutes.p90 ?? '', c.tat_minutes.p95, c.sla_minutes, c.breaches, c.breach_pct])} />
        </section>
        <section className="panel" aria-labelledby="rvu-title">
          <h2 id="rvu-title">RVU per reader against target</h2>
          <Chart title="Work RVU per hour on duty" x={rx} time={false} categories={rcats} series={rvuSeries} yLabel="RVU / h" />
          <DataTable label="RVU per reader per shift" file="rvu-per-reader.csv"
            header={['Day', 'Reader', 'Reads', 'RVU', 'Hours on duty', 'RVU / h', 'Target / h']}
            rows={(rvu ?? []).map((d) => [d.day, d.reader_id, d.reads, d.rvu, d.hours_on_duty, d.rvu_per_hour, d.target_per_hour])} />
        </section>
        <QualityPanels range={range} onError={fail} />
        <SimulatePanel />
      </div>
    </main>
  );
}
