import { useEffect, useMemo, useState } from 'react';
import { api } from '../../api/client';
import type { OwnView } from '../../api/types';
import { Chart, palette } from './Chart';
import { DataTable } from './DataTable';
import { Kpi } from './Kpi';
import { defaultRange, RangePicker, type Range } from './RangePicker';
import { minutes } from './shape';

// MyNumbersPage: a reader's own cases, RVUs and TAT against their target
// and the group median. Colleagues are counted, never named.
export function MyNumbersPage() {
  const [range, setRange] = useState<Range>(defaultRange);
  const [own, setOwn] = useState<OwnView | null>(null);
  const [error, setError] = useState('');
  useEffect(() => {
    api.myNumbers(range.from, range.to).then((v) => setOwn(v.own), (e: Error) => setError(e.message));
  }, [range]);
  const days = useMemo(() => own?.days ?? [], [own]);
  const x = useMemo(() => days.map((d) => Date.parse(d.day + 'T00:00:00Z') / 1000), [days]);
  const series = useMemo(() => own ? [
    { label: 'my RVU / h', values: days.map((d) => d.rvu_per_hour), color: palette[1], bars: true },
    { label: 'target', values: days.map(() => own.target_per_hour), color: palette[2], dash: true },
    { label: 'group median', values: days.map(() => own.group_median_rvu_per_hour), color: palette[0], dash: true },
  ] : [], [own, days]);
  return (
    <main aria-labelledby="me-title" className="dashboard">
      <div className="toolbar">
        <h1 id="me-title">My numbers</h1>
        <RangePicker value={range} onChange={setRange} />
      </div>
      {error && <p role="alert" className="banner">{error}</p>}
      {own && (
        <>
          <div className="kpis" aria-label="Summary">
            <Kpi label="Cases signed" value={own.reads} />
            <Kpi label="Work RVU" value={own.rvu} />
            <Kpi label="RVU / h on duty" value={own.rvu_per_hour} sub={`target ${own.target_per_hour} · group median ${own.group_median_rvu_per_hour}`} />
            <Kpi label="Median TAT" value={minutes(own.tat_p50_minutes)} sub={`group median ${minutes(own.group_median_tat_p50_minutes)}`} />
          </div>
          <p className="muted small">The group median is over {own.group_readers} readers who signed in this range; nobody else's figures are shown.</p>
          <section className="panel">
            <Chart title="My RVU per hour on duty, by day" x={x} series={series} yLabel="RVU / h" />
            <DataTable label="My shifts" file="my-numbers.csv" header={['Day', 'Cases', 'RVU', 'Hours on duty', 'RVU / h', 'Target / h']}
              rows={days.map((d) => [d.day, d.reads, d.rvu, d.hours_on_duty, d.rvu_per_hour, d.target_per_hour])} />
          </section>
        </>
      )}
    </main>
  );
}
