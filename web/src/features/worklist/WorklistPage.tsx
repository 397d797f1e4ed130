import { useEffect, useMemo, useState } from 'react';
import { api } from '../../api/client';
import type { Facility, WorkItem } from '../../api/types';
import { navigate, useNow } from '../../router';
import { useAction } from '../station/prefs';
import { nextCase, person, state, view, type Filter, type SortKey } from './sort';
import { age, countdown, localTime } from './time';
import { usePresence, useWorklist, type Presence } from './useWorklist';
import { ReasonDialog } from './ReasonDialog';
import { ExtraWork } from './ExtraWork';
import { OpenLoops } from '../critical/OpenLoops';
import { preloadViewer } from '../viewer/LazyViewer';
import { usePrefetch } from './usePrefetch';

export async function openCase(uid: string) {
  await api.open(uid);
  navigate(`/case/${encodeURIComponent(uid)}`);
}

export function WorklistPage() {
  const live = useWorklist(false);
  useEffect(() => preloadViewer(), []); // the viewer's code, in idle time
  usePrefetch(live.items); // the assigned cases' images, in the background
  const [presence, setPresence] = useState<Presence>('available');
  usePresence(presence, true, live.refresh);
  const [filter, setFilter] = useState<Filter>({ modality: '', priority: '', text: '' });
  const [sort, setSort] = useState<SortKey>('queue');
  const [releasing, setReleasing] = useState<WorkItem | null>(null);
  const [error, setError] = useState('');
  const now = useNow(1000);
  const shown = useMemo(() => view(live.items, filter, sort), [live.items, filter, sort]);
  const modalities = useMemo(() => [...new Set(live.items.map((i) => i.modality))].sort(), [live.items]);

  const next = () => {
    const n = nextCase(live.items);
    if (n) openCase(n.study_uid).catch((e) => setError(String(e.message ?? e)));
  };
  useAction('nextCase', next);

  return (
    <main className="worklist" aria-labelledby="wl-title">
      <div className="toolbar">
        <h1 id="wl-title">My worklist</h1>
        <span className="count" data-testid="wl-count">{live.items.length} cases</span>
        <label>
          Presence{' '}
          <select value={presence} onChange={(e) => setPresence(e.target.value as Presence)} aria-label="Presence">
            <option value="available">Available</option>
            <option value="reading">Reading</option>
            <option value="away">Away</option>
          </select>
        </label>
        <ExtraWork />
        <button className="primary" onClick={next} disabled={live.items.length === 0}>
          Next case
        </button>
      </div>
      {!live.connected && (
        <div role="status" className="banner">
          Connection to Lightbox lost — reconnecting; the list resynchronises when it is back.
        </div>
      )}
      {error && <div role="alert" className="error">{error}</div>}
      <OpenLoops />
      {live.notices.map((n) => (
        <div key={`${n.study_uid}-${n.at}`} role="status" className="banner discrepancy">
          Discrepancy: {n.reason}.{' '}
          <a href={`/case/${encodeURIComponent(n.study_uid ?? '')}`} onClick={(e) => { e.preventDefault(); navigate(`/case/${encodeURIComponent(n.study_uid ?? '')}`); }}>
            See the final report
          </a>{' '}
          <button onClick={() => live.dismiss(n)}>Dismiss</button>
        </div>
      ))}
      <div className="filters" role="search">
        <label>
          Modality{' '}
          <select value={filter.modality} onChange={(e) => setFilter({ ...filter, modality: e.target.value })}>
            <option value="">all</option>
            {modalities.map((m) => (
              <option key={m}>{m}</option>
            ))}
          </select>
        </label>
        <label>
          Priority{' '}
          <select value={filter.priority} onChange={(e) => setFilter({ ...filter, priority: e.target.value })}>
            <option value="">all</option>
            <option value="stat">STAT</option>
            <option value="asap">ASAP</option>
            <option value="routine">routine</option>
          </select>
        </label>
        <label>
          Search <input type="search" value={filter.text} onChange={(e) => setFilter({ ...filter, text: e.target.value })} />
        </label>
        <label>
          Sort{' '}
          <select value={sort} onChange={(e) => setSort(e.target.value as SortKey)}>
            <option value="queue">reading order</option>
            <option value="deadline">deadline</option>
            <option value="priority">priority</option>
            <option value="rvu">RVU</option>
          </select>
        </label>
      </div>
      <WorkTable items={shown} facilities={live.facilities} now={now} onRelease={setReleasing} />
      {live.loaded && live.items.length === 0 && <p className="muted empty">No cases assigned to you right now.</p>}
      {releasing && (
        <ReasonDialog title="Release case" label="Why are you releasing it?" submit="Release"
          onCancel={() => setReleasing(null)}
          onSubmit={async (reason) => {
            await api.release(releasing.study_uid, reason);
            setReleasing(null);
            live.refresh();
          }} />
      )}
    </main>
  );
}

// STUDY_DRAG is the drag type of a board row: the coverage console drops
// it on a reader to reassign (board/ConsolePanels).
export const STUDY_DRAG = 'application/x-lightbox-study';

function dragStudy(e: React.DragEvent, uid: string) {
  e.dataTransfer.setData(STUDY_DRAG, uid);
  e.dataTransfer.effectAllowed = 'move';
}

export function WorkTable({ items, facilities, now, onRelease, board, onReassign }: {
  items: WorkItem[];
  facilities: Record<string, Facility>;
  now: number;
  onRelease?: (it: WorkItem) => void;
  board?: boolean;
  onReassign?: (it: WorkItem) => void;
}) {
  return (
    <table className="table" data-testid="worklist">
      <thead>
        <tr>
          <th scope="col">Priority</th>
          <th scope="col">Due in</th>
          <th scope="col">Facility</th>
          <th scope="col">Patient</th>
          <th scope="col">Age/sex</th>
          <th scope="col">Study</th>
          <th scope="col">Mod.</th>
          <th scope="col">RVU</th>
          <th scope="col">Priors</th>
          <th scope="col">State</th>
          {board && <th scope="col">Reader</th>}
          <th scope="col"><span className="sr-only">Actions</span></th>
        </tr>
      </thead>
      <tbody>
        {items.map((it) => {
          const c = countdown(it.deadline, now);
          const f = facilities[it.facility_id];
          return (
            <tr key={it.study_uid} data-study={it.study_uid} data-updated={it.updated_at} className={c ? `risk-${c.risk}` : ''}
              draggable={onReassign ? true : undefined} onDragStart={onReassign ? (e) => dragStudy(e, it.study_uid) : undefined}>
              <td><span className={`prio prio-${it.priority.toLowerCase()}`}>{it.priority.toUpperCase()}</span>{it.triage?.length ? ' ⚑' : ''}</td>
              <td className={`mono ${c ? `due-${c.risk}` : ''}`}>{c?.text ?? '—'}</td>
              <td>
                {f?.name ?? it.facility_id}
                <div className="muted small">{localTime(f?.time_zone, now)}</div>
              </td>
              <td>{person(it.patient_name)}</td>
              <td>{age(it.birth_date, now)}{it.patient_sex ? ` ${it.patient_sex}` : ''}</td>
              <td>{it.description}</td>
              <td>{it.modality}</td>
              <td className="mono">{it.work_rvu.toFixed(2)}</td>
              <td className="mono">{it.priors}</td>
              <td>{board ? it.status : state(it)}{it.status === 'uncovered' && it.note ? <div className="small error-text">{it.note}</div> : null}</td>
              {board && <td>{it.reader_id || '—'}</td>}
              <td className="actions">
                {!board && <button onClick={() => void openCase(it.study_uid)} aria-label={`Open ${it.description}`}>Open</button>}
                {onRelease && <button onClick={() => onRelease(it)}>Release</button>}
                {onReassign && <button onClick={() => onReassign(it)}>Reassign</button>}
              </td>
            </tr>
          );
        })}
      </tbody>
    </table>
  );
}
