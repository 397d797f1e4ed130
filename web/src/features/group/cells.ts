import type { CoverageGap, CoverageMap } from '../../api/types';

// The gap map as the screen draws it: one line per facility and modality,
// one cell per hour, each cell knowing the gap (if any) it belongs to so a
// cell can name the missing credential.

export interface Cell {
  at: number; // start of the hour, ms since the epoch
  covered: boolean;
  missing?: string;
}

export interface Line {
  key: string;
  facility: string;
  name: string;
  state: string;
  timeZone: string;
  modality: string;
  cells: Cell[];
  gapHours: number;
}

const hour = 3600_000;

function gapAt(gaps: CoverageGap[], at: number): CoverageGap | undefined {
  return gaps.find((g) => Date.parse(g.from) <= at && at < Date.parse(g.to));
}

export function toLines(m: CoverageMap): Line[] {
  const from = Date.parse(m.from);
  return m.rows.map((r) => {
    const cells: Cell[] = [];
    for (let h = 0; h < m.hours; h++) {
      const at = from + h * hour;
      // a missing entry is a gap: the server never leaves covered hours out
      const covered = r.covered[h] === true;
      cells.push(covered ? { at, covered } : { at, covered, missing: gapAt(r.gaps, at)?.missing });
    }
    return {
      key: `${r.facility_id}/${r.modality}`,
      facility: r.facility_id,
      name: r.name,
      state: r.state,
      timeZone: r.time_zone,
      modality: r.modality,
      cells,
      gapHours: cells.filter((c) => !c.covered).length,
    };
  });
}

// hourLabel: the hour of the cell on the facility's clock ("07"), so a
// coordinator sees which local night is uncovered.
export function hourLabel(at: number, timeZone: string): string {
  try {
    return new Intl.DateTimeFormat('en-GB', { hour: '2-digit', hourCycle: 'h23', timeZone }).format(at);
  } catch {
    return new Intl.DateTimeFormat('en-GB', { hour: '2-digit', hourCycle: 'h23', timeZone: 'UTC' }).format(at);
  }
}

// gapList: every gap of the window, longest first, with its facility name.
export function gapList(m: CoverageMap): (CoverageGap & { name: string; hours: number })[] {
  return m.rows
    .flatMap((r) => r.gaps.map((g) => ({ ...g, name: r.name, hours: Math.round((Date.parse(g.to) - Date.parse(g.from)) / hour) })))
    .sort((a, b) => b.hours - a.hours || a.from.localeCompare(b.from) || a.facility_id.localeCompare(b.facility_id));
}
