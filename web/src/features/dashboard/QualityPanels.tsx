import { useEffect, useMemo, useState } from 'react';
import { api, quality } from '../../api/client';
import type { ComplianceRow, DiscrepancyRate, PeerRate } from '../../api/types';
import { Chart, palette } from './Chart';
import { DataTable } from './DataTable';
import type { Range } from './RangePicker';
import { isoDay } from './csv';
import { groupPeerRates } from './shape';

const nextDay = (d: string) => isoDay(new Date(Date.parse(d + 'T00:00:00Z') + 86400000));

// QualityPanels: critical-result loop compliance (closed within the
// category's policy time, per facility and category) and prelim→final
// discrepancy rates per facility, with RADPEER 2b+ rates from peer review
// beside them, for the dashboard's date range.
export function QualityPanels({ range, onError }: { range: Range; onError: (e: Error) => void }) {
  const [crit, setCrit] = useState<ComplianceRow[] | null>(null);
  const [disc, setDisc] = useState<DiscrepancyRate[] | null>(null);
  const [peer, setPeer] = useState<PeerRate[] | null>(null);
  useEffect(() => {
    api.criticalCompliance(range.from, nextDay(range.to)).then((v) => setCrit(v.rows ?? []), onError);
    api.discrepancy(range.from, range.to).then((v) => setDisc(v.rows), onError);
    quality.peerRates().then(setPeer, () => setPeer([]));
  }, [range, onError]);

  const critRows = useMemo(() => crit ?? [], [crit]);
  const cx = useMemo(() => critRows.map((_, i) => i), [critRows]);
  const ccats = useMemo(() => critRows.map((c) => `${c.facility_id} ${c.category_label || c.category}`), [critRows]);
  const critSeries = useMemo(() => [
    { label: '% closed on time', values: critRows.map((c) => c.percent_on_time), color: palette[1], bars: true },
    { label: 'goal 100 %', values: critRows.map(() => 100), color: palette[2], dash: true },
  ], [critRows]);
  const discRows = useMemo(() => disc ?? [], [disc]);
  const dx = useMemo(() => discRows.map((_, i) => i), [discRows]);
  const dcats = useMemo(() => discRows.map((d) => d.facility_id), [discRows]);
  const discSeries = useMemo(() => [{ label: 'discrepant finals %', values: discRows.map((d) => d.percent), color: palette[3], bars: true }], [discRows]);
  const peerRows = useMemo(() => groupPeerRates(peer ?? [], range.from, range.to), [peer, range]);

  return (
    <>
      <section className="panel" aria-labelledby="crit-title">
        <h2 id="crit-title">Critical-result loop compliance</h2>
        <Chart title="Critical results closed within policy time (%), by facility and category" x={cx} time={false} categories={ccats} series={critSeries} yLabel="% on time" />
        <DataTable label="Critical-result compliance" file="critical-compliance.csv"
          header={['Facility', 'Category', 'Results', 'Pending', 'Closed', 'Closed on time', 'Communicated on time', 'Overdue open', '% on time', 'Median min to communication']}
          rows={critRows.map((c) => [c.facility_id, c.category_label || c.category, c.total, c.pending, c.closed, c.closed_on_time, c.communicated_on_time, c.overdue_open, c.percent_on_time, c.median_minutes_to_communication])} />
      </section>
      <section className="panel" aria-labelledby="disc-title">
        <h2 id="disc-title">Prelim → final discrepancies</h2>
        <p className="muted small">A final signed over a preliminary read counts as discrepant when its impression differs from the prelim's or its signer flagged it.</p>
        <Chart title="Discrepant finals over prelims (%), by facility" x={dx} time={false} categories={dcats} series={discSeries} yLabel="%" height={160} />
        <DataTable label="Prelim to final discrepancies" file="prelim-final-discrepancies.csv"
          header={['Facility', 'Finals over a prelim', 'Discrepant', 'Impression changed', 'Flagged by signer', 'Prelim already communicated', 'Discrepant %']}
          rows={discRows.map((d) => [d.facility_id, d.finals_over_prelim, d.discrepant, d.impression_changed, d.flagged, d.prelim_communicated, d.percent])} />
        <DataTable label="RADPEER peer review by month" file="radpeer-by-month.csv"
          header={['Month', 'Reviewed', 'Score 2a+', 'Score 2b+', '2b+ %']} rows={peerRows} empty="No closed peer reviews in these months." />
      </section>
    </>
  );
}
