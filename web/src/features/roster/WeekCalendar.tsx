import { useCallback, useEffect, useMemo, useState } from 'react';
import { api } from '../../api/client';
import type { Week, WeekReader } from '../../api/types';
import { ChangeForm } from './ChangeForm';
import { bars, bySubspecialty, clock, dayLabel, days, hoursOn } from './week';

export const zones = ['UTC', 'America/New_York', 'America/Chicago', 'America/Denver', 'America/Los_Angeles', 'Pacific/Honolulu', 'Europe/London', 'Asia/Kolkata', 'Australia/Sydney'];

const DAYS = 7;

// WeekCalendar: who is on duty over the coming week, grouped by
// subspecialty, drawn on one chosen time zone's days, with vacations and
// swaps marked; coordinators record one-off changes beside it.
export function WeekCalendar({ version }: { version: number }) {
  const [tz, setTz] = useState('America/New_York');
  const [week, setWeek] = useState<Week | null>(null);
  const [error, setError] = useState('');
  const [changed, setChanged] = useState(0);
  const start = useMemo(() => days(Date.now(), tz, DAYS + 1), [tz]);
  const from = start[0];
  const to = start[DAYS];
  const load = useCallback(() => {
    // the server's window is in UTC days: ask for one more to cover the zone's
    const utcFrom = new Date(from - 86400000).toISOString().slice(0, 10);
    api.week(utcFrom, DAYS + 2).then(setWeek, (e: Error) => setError(e.message));
  }, [from]);
  useEffect(load, [load, version, changed]);
  const groups = useMemo(() => bySubspecialty(week?.readers ?? []), [week]);
  const now = Date.now();
  const nowPct = ((now - from) / (to - from)) * 100;
  return (
    <section className="panel" aria-labelledby="cal-title">
      <div className="toolbar">
        <h2 id="cal-title">Week calendar</h2>
        <label>Time zone
          <select value={tz} onChange={(e) => setTz(e.target.value)} aria-label="Calendar time zone">
            {zones.map((z) => <option key={z}>{z}</option>)}
          </select>
        </label>
        <span className="legend">
          <i className="swatch nighthawk" /> nighthawk <i className="swatch dayhawk" /> dayhawk <i className="swatch swing" /> swing <i className="swatch away" /> away
        </span>
      </div>
      {error && <p role="alert">{error}</p>}
      <div className="calendar" role="table" aria-label="Week calendar">
        <div className="cal-row cal-head" role="row">
          <span className="cal-name" role="columnheader">Reader</span>
          <div className="cal-days" role="columnheader">
            {start.slice(0, DAYS).map((d) => <span key={d} style={{ width: `${100 / DAYS}%` }}>{dayLabel(d, tz)}</span>)}
          </div>
          <span className="cal-hours" role="columnheader">h</span>
        </div>
        {groups.map(([sub, rs]) => (
          <div key={sub} role="rowgroup" aria-label={sub}>
            <div className="cal-group" role="row"><span role="cell">{sub}</span></div>
            {rs.map((r) => <CalRow key={r.id} r={r} from={from} to={to} tz={tz} nowPct={nowPct} />)}
          </div>
        ))}
      </div>
      <ChangeForm readers={week?.readers ?? []} onDone={() => setChanged((n) => n + 1)} />
    </section>
  );
}

function CalRow({ r, from, to, tz, nowPct }: { r: WeekReader; from: number; to: number; tz: string; nowPct: number }) {
  return (
    <div className="cal-row" role="row" data-reader={r.id}>
      <span className="cal-name" role="rowheader" title={`${r.time_zone} · ${r.location}`}>
        {r.name || r.id} <span className="muted small">{r.location === 'offshore' ? 'offshore' : r.time_zone.split('/').pop()?.replace('_', ' ')}</span>
      </span>
      <div className="cal-track" role="cell">
        {Array.from({ length: DAYS - 1 }, (_, i) => <i key={i} className="cal-tick" style={{ left: `${((i + 1) * 100) / DAYS}%` }} />)}
        {nowPct > 0 && nowPct < 100 && <i className="cal-now" style={{ left: `${nowPct}%` }} />}
        {bars(r.duty, from, to).map((b) => (
          <span key={b.start} className={`cal-bar ${b.type}`} style={{ left: `${b.left}%`, width: `${b.width}%` }}
            title={`${b.type} ${dayLabel(b.start, tz)} ${clock(b.start, tz)}–${clock(b.end, tz)} (${tz})`} />
        ))}
        {bars(r.away, from, to).map((b) => (
          <span key={'a' + b.start} className="cal-bar away" style={{ left: `${b.left}%`, width: `${b.width}%` }} data-testid="away"
            title={`${b.type} ${dayLabel(b.start, tz)} ${clock(b.start, tz)}–${dayLabel(b.end, tz)} ${clock(b.end, tz)}`} />
        ))}
      </div>
      <span className="cal-hours mono" role="cell">{hoursOn(r.duty, from, to)}</span>
    </div>
  );
}
