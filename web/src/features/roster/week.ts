import type { DutyBlock, WeekReader } from '../../api/types';

// Calendar arithmetic on instants (ms) and IANA zones, through Intl only.

// zoneOffset is the zone's offset from UTC at t, in minutes (east positive).
export function zoneOffset(t: number, tz: string): number {
  const parts = new Intl.DateTimeFormat('en-US', {
    timeZone: tz, hourCycle: 'h23', year: 'numeric', month: '2-digit', day: '2-digit', hour: '2-digit', minute: '2-digit', second: '2-digit',
  }).formatToParts(new Date(t));
  const v = (k: string) => Number(parts.find((p) => p.type === k)?.value);
  const asUTC = Date.UTC(v('year'), v('month') - 1, v('day'), v('hour'), v('minute'), v('second'));
  return Math.round((asUTC - Math.floor(t / 1000) * 1000) / 60000);
}

// dayStart is the instant of local midnight, in tz, of the day containing t.
export function dayStart(t: number, tz: string): number {
  const off = zoneOffset(t, tz);
  const local = t + off * 60000;
  const midnightLocal = local - (((local % 86400000) + 86400000) % 86400000);
  // the offset at midnight may differ (DST): correct once
  return midnightLocal - zoneOffset(midnightLocal - off * 60000, tz) * 60000;
}

// days are the local midnights of n days from the day containing t.
export function days(t: number, tz: string, n: number): number[] {
  const out = [dayStart(t, tz)];
  for (let i = 1; i < n; i++) out.push(dayStart(out[i - 1] + 36 * 3600000, tz));
  return out;
}

export interface Bar {
  left: number; // percent of the window
  width: number;
  type: string;
  start: number;
  end: number;
}

// bars places blocks on a [from, to) window as percentages, clipped.
export function bars(blocks: { start: string; end: string; type?: string; reason?: string }[], from: number, to: number): Bar[] {
  const span = to - from;
  const out: Bar[] = [];
  for (const b of blocks) {
    const s = Math.max(from, Date.parse(b.start));
    const e = Math.min(to, Date.parse(b.end));
    if (e <= s) continue;
    out.push({ left: ((s - from) / span) * 100, width: ((e - s) / span) * 100, type: b.type ?? b.reason ?? '', start: s, end: e });
  }
  return out;
}

// hoursOn sums the duty hours inside [from, to).
export function hoursOn(duty: DutyBlock[], from: number, to: number): number {
  return Math.round(bars(duty, from, to).reduce((a, b) => a + (b.end - b.start), 0) / 360000) / 10;
}

// bySubspecialty groups readers under their first subspecialty (General
// when none), groups and readers sorted by name.
export function bySubspecialty(readers: WeekReader[]): [string, WeekReader[]][] {
  const m = new Map<string, WeekReader[]>();
  for (const r of readers) {
    const k = r.subspecialties[0] ?? 'General';
    if (!m.has(k)) m.set(k, []);
    m.get(k)!.push(r);
  }
  return [...m.entries()]
    .sort((a, b) => (a[0] === 'General' ? 1 : b[0] === 'General' ? -1 : a[0].localeCompare(b[0])))
    .map(([k, rs]) => [k, rs.sort((a, b) => (a.name || a.id).localeCompare(b.name || b.id))]);
}

// clock formats an instant as HH:MM in tz.
export function clock(t: number, tz: string): string {
  return new Intl.DateTimeFormat('en-GB', { timeZone: tz, hour: '2-digit', minute: '2-digit', hourCycle: 'h23' }).format(new Date(t));
}

// dayLabel formats a local midnight as "Mon 7 Dec".
export function dayLabel(t: number, tz: string): string {
  return new Intl.DateTimeFormat('en-GB', { timeZone: tz, weekday: 'short', day: 'numeric', month: 'short' }).format(new Date(t));
}
