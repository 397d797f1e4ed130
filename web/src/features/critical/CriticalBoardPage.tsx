import { useCallback, useEffect, useState } from 'react';
import { api } from '../../api/client';
import type { CriticalBoardItem } from '../../api/types';
import { useNow } from '../../router';
import { DataTable } from '../dashboard/DataTable';
import { ActionDialog } from '../worklist/ReasonDialog';
import { countdown } from '../worklist/time';

// CriticalBoardPage: the coordinators' view of every open critical-result
// loop in scope, by deadline, with time left and escalation stage; a loop
// is closed by documenting the call (recipient, outcome, read-back) and
// closing, which the server refuses without the required documentation.
export function CriticalBoardPage() {
  const [items, setItems] = useState<CriticalBoardItem[]>([]);
  const [closing, setClosing] = useState<CriticalBoardItem | null>(null);
  const [error, setError] = useState('');
  const now = useNow(1000);
  const load = useCallback(() => {
    api.criticalBoardAll().then((b) => setItems(b.items.filter((i) => i.state !== 'closed')), (e: Error) => setError(e.message));
  }, []);
  useEffect(() => {
    load();
    const t = setInterval(load, 15000);
    return () => clearInterval(t);
  }, [load]);
  return (
    <main aria-labelledby="crit-title">
      <div className="toolbar">
        <h1 id="crit-title">Critical results</h1>
        <span className="count">{items.length} open · {items.filter((i) => i.overdue).length} overdue</span>
      </div>
      {error && <p role="alert" className="banner">{error}</p>}
      <table className="table" aria-label="Open critical results">
        <thead><tr><th>Time left</th><th>Stage</th><th>Category</th><th>Facility</th><th>Finding</th><th /></tr></thead>
        <tbody>
          {items.map((i) => {
            const c = countdown(i.deadline_at, now);
            return (
              <tr key={i.id} className={c ? `risk-${c.risk}` : ''}>
                <td className={`mono ${c ? `due-${c.risk}` : ''}`}>{c?.text ?? '—'}</td>
                <td><span className="badge">{i.state.replace(/_/g, ' ')}</span></td>
                <td>{i.category}</td>
                <td>{i.facility_id}</td>
                <td>{i.finding}</td>
                <td><button type="button" onClick={() => setClosing(i)}>Document &amp; close</button></td>
              </tr>
            );
          })}
        </tbody>
      </table>
      {items.length === 0 && <p className="muted">No open critical results.</p>}
      <DataTable label="Open critical results export" file="critical-open.csv" header={['ID', 'Stage', 'Category', 'Facility', 'Deadline', 'Overdue']}
        rows={items.map((i) => [i.id, i.state, i.category, i.facility_id, i.deadline_at, i.overdue ? 'yes' : 'no'])} />
      {closing && <CloseDialog item={closing} onDone={() => { setClosing(null); load(); }} />}
    </main>
  );
}

function CloseDialog({ item, onDone }: { item: CriticalBoardItem; onDone: () => void }) {
  const [name, setName] = useState('');
  const [outcome, setOutcome] = useState('reached');
  const [readBack, setReadBack] = useState(false);
  const submit = async () => {
    await api.attempt(item.id, { method: 'phone', to: { name }, outcome, read_back: readBack });
    if (outcome === 'reached') await api.closeCritical(item.id);
    onDone();
  };
  return (
    <ActionDialog label="Document and close" title={`Category ${item.category}: document the call`} submit="Save" onSubmit={submit} onCancel={onDone}>
      <label>Spoke to <input value={name} required onChange={(e) => setName(e.target.value)} /></label>
      <label>Outcome
        <select value={outcome} onChange={(e) => setOutcome(e.target.value)}>
          <option value="reached">reached (close the loop)</option>
          <option value="no_answer">no answer</option>
          <option value="left_message">left message</option>
        </select>
      </label>
      <label className="check"><input type="checkbox" checked={readBack} onChange={(e) => setReadBack(e.target.checked)} /> the recipient read the result back</label>
    </ActionDialog>
  );
}
