import { describe, expect, it } from 'vitest';
import type { CoverageMap } from '../../api/types';
import { gapList, hourLabel, toLines } from './cells';

const map: CoverageMap = {
  from: '2026-03-08T06:00:00Z',
  hours: 4,
  rows: [
    {
      facility_id: 'F1', name: 'Mercy', state: 'TX', time_zone: 'America/Chicago', modality: 'CT',
      covered: [true, false, false, true],
      gaps: [{ facility_id: 'F1', modality: 'CT', from: '2026-03-08T07:00:00Z', to: '2026-03-08T09:00:00Z', missing: 'licence in TX', closest: ['dr.b'] }],
    },
    {
      facility_id: 'F2', name: 'Bay', state: 'CA', time_zone: 'America/Los_Angeles', modality: 'MR',
      covered: [true, true, true, false],
      gaps: [{ facility_id: 'F2', modality: 'MR', from: '2026-03-08T09:00:00Z', to: '2026-03-08T10:00:00Z', missing: 'no reader on shift' }],
    },
  ],
};

describe('toLines', () => {
  const lines = toLines(map);
  it('makes one cell per hour, gaps naming the missing credential', () => {
    expect(lines.map((l) => l.key)).toEqual(['F1/CT', 'F2/MR']);
    expect(lines[0].cells.map((c) => c.covered)).toEqual([true, false, false, true]);
    expect(lines[0].cells.map((c) => c.missing)).toEqual([undefined, 'licence in TX', 'licence in TX', undefined]);
    expect(lines[0].cells[2].at).toBe(Date.parse('2026-03-08T08:00:00Z'));
    expect(lines[0].gapHours).toBe(2);
    expect(lines[1].cells[3].missing).toBe('no reader on shift');
  });
  it('treats an hour the server left out as a gap', () => {
    const short = toLines({ ...map, rows: [{ ...map.rows[0], covered: [true] }] });
    expect(short[0].cells.map((c) => c.covered)).toEqual([true, false, false, false]);
  });
});

describe('gapList', () => {
  it('lists the longest gaps first with the facility name and length', () => {
    expect(gapList(map).map((g) => [g.name, g.hours, g.missing])).toEqual([
      ['Mercy', 2, 'licence in TX'],
      ['Bay', 1, 'no reader on shift'],
    ]);
  });
});

describe('hourLabel', () => {
  it('shows the hour on the facility clock', () => {
    // 06:00 UTC on 8 March 2026 is midnight in Chicago (CST, before DST starts at 08:00 UTC)
    expect(hourLabel(Date.parse('2026-03-08T06:00:00Z'), 'America/Chicago')).toBe('00');
    expect(hourLabel(Date.parse('2026-03-08T06:00:00Z'), 'Not/AZone')).toBe('06');
  });
});
