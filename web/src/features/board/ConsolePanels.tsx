import { useState } from 'react';
import type { Facility, ReaderLoad, WorkItem } from '../../api/types';
import { STUDY_DRAG } from '../worklist/WorklistPage';

// ReadersOnline: every reader with presence and queue in RVUs (online
// first). A board row dropped on a reader asks to reassign it to them.
export function ReadersOnline({ loads, onDrop }: { loads: ReaderLoad[]; onDrop?: (studyUID: string, readerID: string) => void }) {
  const online = loads.filter((l) => l.online).length;
  const [over, setOver] = useState('');
  const dropProps = (id: string) => (onDrop ? {
    onDragOver: (e: React.DragEvent) => {
      if (!e.dataTransfer.types.includes(STUDY_DRAG)) return;
      e.preventDefault();
      e.dataTransfer.dropEffect = 'move';
      setOver(id);
    },
    onDragLeave: () => setOver((o) => (o === id ? '' : o)),
    onDrop: (e: React.DragEvent) => {
      e.preventDefault();
      setOver('');
      const uid = e.dataTransfer.getData(STUDY_DRAG);
      if (uid) onDrop(uid, id);
    },
  } : {});
  return (
    <section className="panel" aria-labelledby="online-title">
      <h2 id="online-title">Readers <span className="count">{online} online of {loads.length}</span></h2>
      {onDrop && <p className="muted small">Drag a study from the board onto a reader to reassign it.</p>}
      <table className="table compact" aria-label="Readers online">
        <thead><tr><th>Reader</th><th>State</th><th className="num">Queue</th><th className="num">RVU</th></tr></thead>
        <tbody>
          {loads.map((l) => (
            <tr key={l.reader_id} data-reader={l.reader_id} className={over === l.reader_id ? 'drop-over' : undefined} {...dropProps(l.reader_id)}>
              <td>{l.name || l.reader_id}</td>
              <td><span className={`dot ${l.online ? 'on' : l.on_shift ? 'warn' : 'off'}`} />{l.online ? 'online' : l.away ? 'away' : l.on_shift ? 'offline (on shift)' : 'off shift'}</td>
              <td className="mono num">{l.queue}</td>
              <td className="mono num">{l.queue_rvu.toFixed(1)}</td>
            </tr>
          ))}
        </tbody>
      </table>
    </section>
  );
}

// UncoveredList: each uncovered study with the credential it lacks (the
// engine's note) and the readers who could read it if they came online.
export function UncoveredList({ items, cover, facilities }: { items: WorkItem[]; cover: Record<string, string[]>; facilities: Record<string, Facility> }) {
  return (
    <section className="panel" aria-labelledby="unc-title">
      <h2 id="unc-title">Uncovered <span className="count">{items.length}</span></h2>
      {items.length === 0 && <p className="muted">Every study has an eligible reader.</p>}
      <ul className="uncovered" aria-label="Uncovered studies">
        {items.map((it) => {
          const who = cover[it.study_uid] ?? [];
          return (
            <li key={it.study_uid} data-study={it.study_uid}>
              <b>{it.priority.toUpperCase()}</b> {it.modality} · {facilities[it.facility_id]?.name ?? it.facility_id}
              <div className="small error-text">{it.note || 'no eligible reader on duty'}</div>
              <div className="small">{who.length > 0 ? <>Could cover if online: <b>{who.join(', ')}</b></> : <span className="muted">Nobody in the group holds every credential for it.</span>}</div>
            </li>
          );
        })}
      </ul>
    </section>
  );
}
