import { useCallback, useEffect, useState } from 'react';
import { api } from '../../api/client';
import type { LibraryProtocol, Order, Unmatched } from '../../api/types';
import { ActionDialog, ReasonDialog } from '../worklist/ReasonDialog';

const ago = (iso: string, now: number) => {
  const m = Math.max(0, Math.round((now - Date.parse(iso)) / 60000));
  return m < 90 ? `${m} min` : `${Math.round(m / 60)} h`;
};

// useQueue polls one console queue every 15 s and on `tick` (the board's
// live changes), keeping the last answer on a failed poll.
function useQueue<T>(load: () => Promise<T[]>, tick: unknown) {
  const [items, setItems] = useState<T[]>([]);
  const [error, setError] = useState('');
  const refresh = useCallback(() => {
    load().then((v) => { setItems(v); setError(''); }, (e: Error) => setError(e.message));
  }, [load]);
  useEffect(() => {
    refresh();
    const t = setInterval(refresh, 15000);
    return () => clearInterval(t);
  }, [refresh, tick]);
  return { items, error, refresh };
}

// ProtocolQueue: orders waiting for a radiologist's protocol. Radiologists
// approve with a protocol from the facility's library or reject the order
// with a reason; coordinators see the queue and its age.
export function ProtocolQueue({ canProtocol, now, tick }: { canProtocol: boolean; now: number; tick: unknown }) {
  const q = useQueue(api.protocolQueue, tick);
  const [approving, setApproving] = useState<{ order: Order; library: LibraryProtocol[] } | null>(null);
  const [code, setCode] = useState('');
  const [rejecting, setRejecting] = useState<Order | null>(null);
  const [error, setError] = useState('');
  const approve = async (o: Order) => {
    setError('');
    try {
      const library = await api.facilityProtocols(o.FacilityID);
      setCode(library.find((p) => !p.modality || p.modality === o.Modality)?.code ?? '');
      setApproving({ order: o, library });
    } catch (e) {
      setError((e as Error).message);
    }
  };
  return (
    <section className="panel" aria-labelledby="protocol-title">
      <h2 id="protocol-title">Protocol queue <span className="count">{q.items.length}</span></h2>
      {(q.error || error) && <p role="alert" className="small error-text">{q.error || error}</p>}
      {q.items.length === 0 && <p className="muted">No order waits for a protocol.</p>}
      <ul className="queue" aria-label="Orders awaiting protocol">
        {q.items.map((o) => (
          <li key={o.ID} data-order={o.ID}>
            <b>{o.Priority.toUpperCase()}</b> {o.ProcedureText || o.ProcedureCode} · {o.FacilityID}
            <div className="small muted">Accession {o.Accession} · waiting {ago(o.CreatedAt, now)}{o.Reason ? ` · ${o.Reason}` : ''}</div>
            {canProtocol && (
              <div className="row small-buttons">
                <button type="button" onClick={() => void approve(o)}>Approve…</button>
                <button type="button" onClick={() => setRejecting(o)}>Reject…</button>
              </div>
            )}
          </li>
        ))}
      </ul>
      {approving && (
        <ActionDialog label="Approve order" title={`Approve ${approving.order.ProcedureText || approving.order.ProcedureCode}`} submit="Approve"
          onCancel={() => setApproving(null)}
          onSubmit={async () => {
            await api.approveOrder(approving.order.ID, code);
            setApproving(null);
            q.refresh();
          }}>
          <label>Protocol
            <select value={code} required onChange={(e) => setCode(e.target.value)}>
              <option value="">—</option>
              {approving.library.map((p) => <option key={p.code} value={p.code}>{p.code} · {p.text}</option>)}
            </select>
          </label>
          {approving.library.length === 0 && <p className="muted small">This facility has no protocol library yet (Group → facility protocols).</p>}
        </ActionDialog>
      )}
      {rejecting && (
        <ReasonDialog title="Reject order" label="Reason" submit="Reject" onCancel={() => setRejecting(null)}
          onSubmit={async (reason) => {
            await api.rejectOrder(rejecting.ID, reason);
            setRejecting(null);
            q.refresh();
          }} />
      )}
    </section>
  );
}

// UnmatchedQueue: studies that did not reconcile to an order (no match, or
// a candidate whose demographics differ); staff attach each to its order.
export function UnmatchedQueue({ now, tick }: { now: number; tick: unknown }) {
  const q = useQueue(api.unmatchedStudies, tick);
  const open = q.items.filter((u) => u.Status !== 'attached');
  const [attaching, setAttaching] = useState<Unmatched | null>(null);
  const [orderID, setOrderID] = useState('');
  return (
    <section className="panel" aria-labelledby="unmatched-title">
      <h2 id="unmatched-title">Unmatched studies <span className="count">{open.length}</span></h2>
      {q.error && <p role="alert" className="small error-text">{q.error}</p>}
      {open.length === 0 && <p className="muted">Every received study matched its order.</p>}
      <ul className="queue" aria-label="Unmatched studies">
        {open.map((u) => (
          <li key={u.ID} data-unmatched={u.ID}>
            <b>{u.FacilityID}</b> accession {u.Accession || '—'} · {ago(u.CreatedAt, now)} ago
            <div className="small error-text">{u.Mismatches?.length ? `differs: ${u.Mismatches.join(', ')}` : 'no order found'}</div>
            {u.CandidateOrderID && <div className="small">Candidate order <span className="mono">{u.CandidateOrderID}</span></div>}
            <button type="button" onClick={() => { setOrderID(u.CandidateOrderID); setAttaching(u); }}>Attach to order…</button>
          </li>
        ))}
      </ul>
      {attaching && (
        <ActionDialog label="Attach study to order" title="Attach study to an order" submit="Attach" onCancel={() => setAttaching(null)}
          onSubmit={async () => {
            await api.attachStudy(attaching.ID, orderID);
            setAttaching(null);
            q.refresh();
          }}>
          <p className="small muted mono">{attaching.StudyUID}</p>
          <label>Order ID <input value={orderID} required onChange={(e) => setOrderID(e.target.value)} /></label>
        </ActionDialog>
      )}
    </section>
  );
}
