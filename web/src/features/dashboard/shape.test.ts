import { describe, expect, it } from 'vitest';
import { groupPeerRates, minutes, readerRates, volumeByHour } from './shape';

describe('volumeByHour', () => {
  it('fills quiet hours and ranks facilities', () => {
    const v = volumeByHour([
      { hour: '2026-06-01T01:00:00Z', facility_id: 'A', class: 'stat', studies: 2 },
      { hour: '2026-06-01T01:00:00Z', facility_id: 'B', class: 'routine', studies: 3 },
      { hour: '2026-06-01T05:00:00Z', facility_id: 'A', class: 'routine', studies: 4 },
      { hour: '2026-06-03T05:00:00Z', facility_id: 'A', class: 'routine', studies: 9 }, // outside
    ], '2026-06-01', '2026-06-01', 1);
    expect(v.x.length).toBe(24);
    expect(v.total[1]).toBe(5);
    expect(v.total[5]).toBe(4);
    expect(v.total[0]).toBe(0);
    expect(v.byFacility.map((f) => f.id)).toEqual(['A']);
  });
});

describe('readerRates', () => {
  it('sums days per reader', () => {
    const r = readerRates([
      { reader_id: 'b', day: 'd1', reads: 1, rvu: 4, hours_on_duty: 8, rvu_per_hour: 0.5, target_per_hour: 1 },
      { reader_id: 'b', day: 'd2', reads: 1, rvu: 8, hours_on_duty: 8, rvu_per_hour: 1, target_per_hour: 1 },
      { reader_id: 'a', day: 'd1', reads: 1, rvu: 3, hours_on_duty: 0, rvu_per_hour: 0, target_per_hour: 2 },
    ]);
    expect(r).toEqual([
      { reader: 'a', rvu: 3, hours: 0, rate: 0, target: 2 },
      { reader: 'b', rvu: 12, hours: 16, rate: 0.8, target: 1 },
    ]);
  });
});

describe('minutes', () => {
  it.each([[12, '12 min'], [180, '3 h'], [4320, '3 d']])('%d', (m, want) => expect(minutes(m)).toBe(want));
});

describe('groupPeerRates', () => {
  it('sums readers per month inside the range', () => {
    const r = (author: string, period: string, reviewed: number, discrepant: number, significant: number) =>
      ({ author, period, reviewed, discrepant, significant, rate: 0 });
    expect(groupPeerRates([r('a', '2026-05', 9, 9, 9), r('a', '2026-06', 4, 2, 1), r('b', '2026-06', 4, 1, 0)], '2026-06-03', '2026-06-09'))
      .toEqual([['2026-06', 8, 3, 1, 12.5]]);
  });
});
