import { describe, expect, it } from 'vitest';
import { bars, bySubspecialty, dayStart, days, hoursOn, zoneOffset } from './week';

describe('zones', () => {
  it.each([
    ['UTC', Date.UTC(2026, 5, 1, 12), 0],
    ['America/New_York', Date.UTC(2026, 5, 1, 12), -240],
    ['America/New_York', Date.UTC(2026, 0, 1, 12), -300],
    ['Asia/Kolkata', Date.UTC(2026, 0, 1, 12), 330],
  ])('%s offset', (tz, t, want) => expect(zoneOffset(t, tz)).toBe(want));
  it('local midnight', () => {
    expect(new Date(dayStart(Date.UTC(2026, 5, 1, 3), 'America/New_York')).toISOString()).toBe('2026-05-31T04:00:00.000Z');
    expect(new Date(dayStart(Date.UTC(2026, 5, 1, 3), 'UTC')).toISOString()).toBe('2026-06-01T00:00:00.000Z');
  });
  it('days across the spring DST change are 23 h apart once', () => {
    const ds = days(Date.UTC(2026, 2, 7, 12), 'America/New_York', 3);
    expect((ds[1] - ds[0]) / 3600000).toBe(24);
    expect((ds[2] - ds[1]) / 3600000).toBe(23);
  });
});

describe('bars', () => {
  const from = Date.UTC(2026, 5, 1);
  const to = from + 4 * 3600000;
  it('clips and places', () => {
    const b = bars([{ type: 'dayhawk', start: '2026-05-31T23:00:00Z', end: '2026-06-01T01:00:00Z' }, { type: 'x', start: '2026-06-01T05:00:00Z', end: '2026-06-01T06:00:00Z' }], from, to);
    expect(b).toHaveLength(1);
    expect(b[0].left).toBe(0);
    expect(b[0].width).toBe(25);
    expect(hoursOn([{ type: 'd', start: '2026-06-01T01:00:00Z', end: '2026-06-01T03:30:00Z' }], from, to)).toBe(2.5);
  });
});

describe('bySubspecialty', () => {
  it('groups, General last', () => {
    const r = (id: string, subs: string[]) => ({ id, name: id, time_zone: 'UTC', subspecialties: subs, location: 'US' as const, duty: [], away: [] });
    const g = bySubspecialty([r('b', []), r('a', ['neuro']), r('c', ['body', 'neuro'])]);
    expect(g.map(([k, rs]) => [k, rs.map((x) => x.id)])).toEqual([['body', ['c']], ['neuro', ['a']], ['General', ['b']]]);
  });
});
