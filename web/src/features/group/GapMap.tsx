import { useEffect, useMemo, useState } from 'react';
import { api } from '../../api/client';
import type { CoverageMap } from '../../api/types';
import { gapList, hourLabel, toLines, type Line } from './cells';

const HOURS = 24;

// GapMap: for the next 24 hours, whether some on-shift reader could read
// each facility's studies; hours are shown on the facility's own clock.
export function GapMap({ version }: { version: number }) {
  const [map, setMap] = useState<CoverageMap | null>(null);
  const [error, setError] = useState('');
  useEffect(() => {
    api.coverageGaps(HOURS).then(setMap, (e: Error) => setError(e.message));
  }, [version]);
  const lines = useMemo(() => (map ? toLines(map) : []), [map]);
  const gaps = useMemo(() => (map ? gapList(map) : []), [map]);
  return (
    <section aria-labelledby="gap-title" className="panel">
      <div className="toolbar">
        <h2 id="gap-title">Coverage, next {HOURS} h</h2>
        {map && <span className="count">{lines.filter((l) => l.gapHours > 0).length} of {lines.length} with gaps</span>}
        <span className="legend"><i className="cell covered" /> covered <i className="cell gap" /> gap</span>
      </div>
      {error && <p role="alert">{error}</p>}
      <div className="scroll">
        <table className="gapmap" aria-label="Coverage gap map">
          <tbody>{lines.map((l) => <GapLine key={l.key} line={l} />)}</tbody>
        </table>
      </div>
      <h3>Gaps</h3>
      {map && gaps.length === 0 && <p className="muted">No gaps.</p>}
      <ul className="gaps" aria-label="Gaps">
        {gaps.map((g) => (
          <li key={`${g.facility_id}/${g.modality}/${g.from}`}>
            <b>{g.name}</b> {g.modality}: {g.hours} h from {new Date(g.from).toLocaleString()} — <b>{g.missing}</b>
            {g.closest && g.closest.length > 0 && <span className="muted"> (closest: {g.closest.join(', ')})</span>}
          </li>
        ))}
      </ul>
    </section>
  );
}

function GapLine({ line }: { line: Line }) {
  return (
    <tr>
      <th scope="row" title={line.timeZone}>{line.name} <span className="muted">{line.state} · {line.modality}</span></th>
      {line.cells.map((c) => (
        <td key={c.at} className={c.covered ? 'cell covered' : 'cell gap'}
          title={`${hourLabel(c.at, line.timeZone)}:00 local — ${c.covered ? 'covered' : `gap: ${c.missing ?? 'uncovered'}`}`}>
          {hourLabel(c.at, line.timeZone)}
        </td>
      ))}
    </tr>
  );
}
