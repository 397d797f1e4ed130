import { useEffect, useMemo, useState } from 'react';
import { api } from '../../api/client';
import type { ExpiryAlert } from '../../api/types';
import { DataTable } from '../dashboard/DataTable';

const HORIZON = 90;

// band names the reminder window an item is in (90/60/30 days; expired).
export function band(a: ExpiryAlert): 'expired' | 'd30' | 'd60' | 'd90' {
  if (a.expired || a.days_left < 0) return 'expired';
  return a.days_left <= 30 ? 'd30' : a.days_left <= 60 ? 'd60' : 'd90';
}

// CredentialsPage: what lapses in the next 90 days (licences, privileges,
// malpractice, enrolments, MQSA) on a timeline, one row per reader, with
// each reader's calendar (ICS) feed to subscribe to.
export function CredentialsPage() {
  const [alerts, setAlerts] = useState<ExpiryAlert[] | null>(null);
  const [error, setError] = useState('');
  useEffect(() => {
    api.expiring(HORIZON).then(setAlerts, (e: Error) => setError(e.message));
  }, []);
  const byReader = useMemo(() => {
    const m = new Map<string, ExpiryAlert[]>();
    for (const a of alerts ?? []) {
      if (!m.has(a.reader_id)) m.set(a.reader_id, []);
      m.get(a.reader_id)!.push(a);
    }
    return [...m.entries()];
  }, [alerts]);
  const count = (b: string) => (alerts ?? []).filter((a) => band(a) === b).length;
  const today = Date.now();
  const month = (d: number) => new Date(today + d * 86400000).toLocaleDateString(undefined, { day: 'numeric', month: 'short' });
  return (
    <main aria-labelledby="cred-title" className="credentials">
      <div className="toolbar">
        <h1 id="cred-title">Credentials watch</h1>
        <span className="count">next {HORIZON} days</span>
        <span className="spacer" />
        <a className="button" href={api.groupICSURL()}>Group calendar (ICS)</a>
      </div>
      {error && <p role="alert" className="banner">{error}</p>}
      <div className="kpis">
        <div className="kpi warn"><span className="kpi-value mono">{count('expired')}</span><span className="kpi-label">expired</span></div>
        <div className="kpi warn"><span className="kpi-value mono">{count('d30')}</span><span className="kpi-label">within 30 days</span></div>
        <div className="kpi"><span className="kpi-value mono">{count('d60')}</span><span className="kpi-label">31–60 days</span></div>
        <div className="kpi"><span className="kpi-value mono">{count('d90')}</span><span className="kpi-label">61–90 days</span></div>
      </div>
      <section className="panel" aria-labelledby="tl-title">
        <h2 id="tl-title">Timeline</h2>
        <div className="timeline" role="list" aria-label="Lapse timeline">
          <div className="tl-row tl-head" aria-hidden="true">
            <span className="tl-name" />
            <div className="tl-track">
              <span className="tl-zone d30" style={{ left: 0, width: '33.33%' }}>≤ 30 d</span>
              <span className="tl-zone d60" style={{ left: '33.33%', width: '33.33%' }}>31–60 d</span>
              <span className="tl-zone d90" style={{ left: '66.66%', width: '33.34%' }}>61–90 d</span>
              {[0, 30, 60, 90].map((d) => <span key={d} className="tl-date" style={{ left: `${(d / HORIZON) * 100}%` }}>{month(d)}</span>)}
            </div>
            <span className="tl-ics" />
          </div>
          {alerts && byReader.length === 0 && <p className="muted">Nothing lapses in the next {HORIZON} days.</p>}
          {byReader.map(([id, as]) => (
            <div key={id} className="tl-row" role="listitem" aria-label={as[0].reader_name || id}>
              <span className="tl-name"><b>{as[0].reader_name || id}</b> <span className="muted small">{id}</span></span>
              <div className="tl-track">
                {as.map((a) => (
                  <span key={a.kind + a.item} className={`tl-mark ${band(a)}`} style={{ left: `${(Math.max(0, Math.min(HORIZON, a.days_left)) / HORIZON) * 100}%` }}
                    title={`${a.kind} ${a.item}: ${a.expired ? 'expired' : 'expires'} ${a.expires} (${a.days_left} days)`} data-testid="lapse">
                    <span className="tl-label">{a.kind} {a.item}</span>
                  </span>
                ))}
              </div>
              <a className="tl-ics" href={api.readerICSURL(id)} download={`${id}.ics`}>ICS feed</a>
            </div>
          ))}
        </div>
      </section>
      <section className="panel">
        <DataTable label="Lapsing credentials" file="lapsing-credentials.csv" empty="Nothing lapses in this window."
          header={['Reader', 'Name', 'Kind', 'Item', 'Expires', 'Days left']}
          rows={(alerts ?? []).map((a) => [a.reader_id, a.reader_name, a.kind, a.item, a.expires, a.days_left])} />
      </section>
    </main>
  );
}
