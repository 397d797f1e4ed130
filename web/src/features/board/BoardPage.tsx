import { useEffect, useMemo, useState } from 'react';
import { api } from '../../api/client';
import type { CoverageConsole, WorkItem } from '../../api/types';
import { useNow } from '../../router';
import { useWorklist } from '../worklist/useWorklist';
import { WorkTable } from '../worklist/WorklistPage';
import { ReasonDialog } from '../worklist/ReasonDialog';
import { countdown } from '../worklist/time';
import { ReadersOnline, UncoveredList } from './ConsolePanels';
import { ProtocolQueue, UnmatchedQueue } from './OrderQueues';
import { useSession } from '../auth/session';

// BoardPage: every unread study in the caller's scope, who has it, SLA at
// risk highlighted, the uncovered ones with the missing credential and who
// could cover them; readers online with their queue; coordinators reassign
// to a reader picked from the list or by dropping the study on them, with a
// reason; the protocol and unmatched-study queues with their actions.
export function BoardPage() {
  const role = useSession().session?.principal.role;
  const staff = role === 'admin' || role === 'coordinator';
  const live = useWorklist(true);
  const now = useNow(1000);
  const [moving, setMoving] = useState<WorkItem | null>(null);
  const [to, setTo] = useState('');
  const [cons, setCons] = useState<CoverageConsole | null>(null);
  useEffect(() => {
    // the console follows the board: refetch when its items change
    api.coverageConsole().then(setCons, () => setCons(null));
  }, [live.items]);
  const uncovered = useMemo(() => live.items.filter((i) => i.status === 'uncovered'), [live.items]);
  const atRisk = live.items.filter((i) => countdown(i.deadline, now)?.risk !== 'ok' && i.deadline).length;
  return (
    <main aria-labelledby="board-title">
      <div className="toolbar">
        <h1 id="board-title">Board</h1>
        <span className="count">{live.items.length} unread · {uncovered.length} uncovered · <span className={atRisk ? 'error-text' : ''}>{atRisk} SLA at risk</span></span>
      </div>
      {!live.connected && <div role="status" className="banner">Connection to Lightbox lost — reconnecting.</div>}
      <div className="board-layout">
        <div className="board-main">
          <WorkTable items={live.items} facilities={live.facilities} now={now} board onReassign={staff ? (it) => { setTo(''); setMoving(it); } : undefined} />
        </div>
        <aside className="board-side">
          <ReadersOnline loads={cons?.readers ?? []} onDrop={staff ? (uid, reader) => {
            const it = live.items.find((i) => i.study_uid === uid);
            if (it && it.reader_id !== reader) { setTo(reader); setMoving(it); }
          } : undefined} />
          <UncoveredList items={uncovered} cover={cons?.could_cover ?? {}} facilities={live.facilities} />
          {(staff || role === 'radiologist') && <ProtocolQueue canProtocol={role === 'radiologist'} now={now} tick={live.items} />}
          {staff && <UnmatchedQueue now={now} tick={live.items} />}
        </aside>
      </div>
      {moving && (
        <ReasonDialog title="Reassign" label="Reason" submit="Reassign" onCancel={() => setMoving(null)}
          onSubmit={async (reason) => {
            await api.reassign(moving.study_uid, to, reason);
            setMoving(null);
            live.refresh();
          }}>
          <label>
            To reader
            <select name="to" value={to} onChange={(e) => setTo(e.target.value)}>
              <option value="">back to the engine</option>
              {(cons?.readers ?? []).map((r) => (
                <option key={r.reader_id} value={r.reader_id}>
                  {r.name || r.reader_id} — {r.online ? 'online' : r.on_shift ? 'on shift, offline' : 'off shift'} · {r.queue} queued, {r.queue_rvu.toFixed(1)} RVU
                  {(cons?.could_cover[moving.study_uid] ?? []).includes(r.reader_id) ? ' · credentialed' : ''}
                </option>
              ))}
            </select>
          </label>
        </ReasonDialog>
      )}
    </main>
  );
}
