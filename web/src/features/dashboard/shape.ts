import type { ClassTAT, PeerRate, ReaderDay, VolumeRow } from '../../api/types';

// Pure shaping of dashboard answers into chart series (tested alone).

export const classOrder = ['stroke', 'trauma', 'stat', 'asap', 'routine'];

export interface VolumeSeries {
  x: number[]; // unix seconds, one per hour in the range
  total: number[];
  byFacility: { id: string; values: number[] }[]; // the busiest `top` facilities
}

// volumeByHour fills every hour of [from, to] (UTC days) so quiet hours
// show as zero rather than being skipped.
export function volumeByHour(rows: VolumeRow[], from: string, to: string, top = 4): VolumeSeries {
  const start = Date.parse(from + 'T00:00:00Z') / 1000;
  const end = Date.parse(to + 'T00:00:00Z') / 1000 + 86400;
  const x: number[] = [];
  for (let t = start; t < end; t += 3600) x.push(t);
  const idx = (hour: string) => Math.round((Date.parse(hour) / 1000 - start) / 3600);
  const total = x.map(() => 0);
  const perFac = new Map<string, number[]>();
  for (const r of rows) {
    const i = idx(r.hour);
    if (i < 0 || i >= x.length) continue;
    total[i] += r.studies;
    if (!perFac.has(r.facility_id)) perFac.set(r.facility_id, x.map(() => 0));
    perFac.get(r.facility_id)![i] += r.studies;
  }
  const byFacility = [...perFac.entries()]
    .map(([id, values]) => ({ id, values, sum: values.reduce((a, b) => a + b, 0) }))
    .sort((a, b) => b.sum - a.sum || a.id.localeCompare(b.id))
    .slice(0, top)
    .map(({ id, values }) => ({ id, values }));
  return { x, total, byFacility };
}

// byFacilityTotals sums the range per facility, busiest first.
export function byFacilityTotals(rows: VolumeRow[]): [string, number][] {
  const m = new Map<string, number>();
  for (const r of rows) m.set(r.facility_id, (m.get(r.facility_id) ?? 0) + r.studies);
  return [...m.entries()].sort((a, b) => b[1] - a[1] || a[0].localeCompare(b[0]));
}

export function sortClasses(cs: ClassTAT[]): ClassTAT[] {
  return [...cs].sort((a, b) => classOrder.indexOf(a.class) - classOrder.indexOf(b.class));
}

export interface ReaderRate {
  reader: string;
  rvu: number;
  hours: number;
  rate: number;
  target: number;
}

// readerRates sums each reader's days into RVU per hour on duty.
export function readerRates(days: ReaderDay[]): ReaderRate[] {
  const m = new Map<string, ReaderRate>();
  for (const d of days) {
    const r = m.get(d.reader_id) ?? { reader: d.reader_id, rvu: 0, hours: 0, rate: 0, target: d.target_per_hour };
    r.rvu += d.rvu;
    r.hours += d.hours_on_duty;
    m.set(d.reader_id, r);
  }
  return [...m.values()]
    .map((r) => ({ ...r, rvu: round1(r.rvu), hours: round1(r.hours), rate: r.hours > 0 ? round1(r.rvu / r.hours) : 0 }))
    .sort((a, b) => a.reader.localeCompare(b.reader));
}

export function round1(x: number): number {
  return Math.round(x * 10) / 10;
}

// minutes formats a duration in minutes compactly (45 min, 3.5 h, 2.1 d).
export function minutes(m: number): string {
  if (m < 90) return `${round1(m)} min`;
  if (m < 48 * 60) return `${round1(m / 60)} h`;
  return `${round1(m / 1440)} d`;
}

// groupPeerRates sums per-reader peer-review months into group rows for the
// months [from, to] touch: month, reviewed, 2a+, 2b+, 2b+ % (no reader named).
export function groupPeerRates(rates: PeerRate[], from: string, to: string): [string, number, number, number, number][] {
  const lo = from.slice(0, 7);
  const hi = to.slice(0, 7);
  const m = new Map<string, [number, number, number]>();
  for (const r of rates) {
    if (r.period < lo || r.period > hi) continue;
    const t = m.get(r.period) ?? [0, 0, 0];
    m.set(r.period, [t[0] + r.reviewed, t[1] + r.discrepant, t[2] + r.significant]);
  }
  return [...m.entries()].sort(([a], [b]) => a.localeCompare(b))
    .map(([p, [n, d, s]]) => [p, n, d, s, n ? round1((s / n) * 100) : 0]);
}
