import { useMemo, useState } from 'react';
import { api } from '../../api/client';
import type { WorkItem } from '../../api/types';
import { useNow } from '../../router';
import { useWorklist } from '../worklist/useWorklist';
import { WorkTable } from '../worklist/WorklistPage';
import { ReasonDialog } from '../worklist/ReasonDialog';

// BoardPage: every unread study in the caller's scope, who has it, the
// uncovered ones with the missing credential; coordinators reassign.
export function BoardPage() {
  const live = useWorklist(true);
  const now = useNow(1000);
  const [moving, setMoving] = useState<WorkItem | null>(null);
  const [to, setTo] = useState('');
  const uncovered = useMemo(() => live.items.filter((i) => i.status === 'uncovered').length, [live.items]);
  return (
    <main aria-labelledby="board-title">
      <div className="toolbar">
        <h1 id="board-title">Board</h1>
        <span className="count">{live.items.length} unread · {uncovered} uncovered</span>
      </div>
      {!live.connected && <div role="status" className="banner">Connection to Lightbox lost — reconnecting.</div>}
      <WorkTable items={live.items} facilities={live.facilities} now={now} board onReassign={setMoving} />
      {moving && (
        <ReasonDialog title="Reassign" label="Reason" submit="Reassign" onCancel={() => setMoving(null)}
          onSubmit={async (reason) => {
            await api.reassign(moving.study_uid, to, reason);
            setMoving(null);
            live.refresh();
          }}>
          <label>
            To reader (user name; empty: back to the engine)
            <input name="to" value={to} onChange={(e) => setTo(e.target.value)} />
          </label>
        </ReasonDialog>
      )}
    </main>
  );
}
