import { useEffect, useState, type FormEvent } from 'react';
import { api } from '../../api/client';
import type { Contact, CriticalResult } from '../../api/types';
import { useNow } from '../../router';
import { countdown } from '../worklist/time';

// CriticalDialog opens a critical result for the study, then logs each call
// attempt (recipient from the facility's directory or typed, outcome,
// read-back) until the loop is closed.
export function CriticalDialog({ study, facility, onClose }: { study: string; facility: string; onClose: () => void }) {
  const [result, setResult] = useState<CriticalResult | null>(null);
  const [category, setCategory] = useState('1');
  const [finding, setFinding] = useState('');
  const [contacts, setContacts] = useState<Contact[]>([]);
  const [to, setTo] = useState({ name: '', role: '', callback: '' });
  const [outcome, setOutcome] = useState('reached');
  const [readBack, setReadBack] = useState(false);
  const [ack, setAck] = useState('');
  const [error, setError] = useState('');
  const now = useNow(1000);

  useEffect(() => {
    if (facility) api.contacts(facility).then(setContacts).catch(() => {});
    api.criticalBoard().then((b) => {
      const open = b.items.find((r) => r.study_uid === study && r.state !== 'closed');
      if (open) api.critical(open.id).then(setResult).catch(() => {});
    }).catch(() => {});
  }, [facility, study]);

  const guard = (f: () => Promise<void>) => async (e?: FormEvent) => {
    e?.preventDefault();
    setError('');
    try {
      await f();
    } catch (err) {
      setError(err instanceof Error ? err.message : String(err));
    }
  };
  const open = guard(async () => setResult(await api.openCritical(study, category, finding)));
  const log = guard(async () => {
    await api.attempt(result!.id, { method: 'phone', to, outcome, read_back: readBack });
    setResult(await api.critical(result!.id)); // with every attempt logged so far
    setReadBack(false);
  });
  const close = guard(async () => {
    await api.closeCritical(result!.id);
    setResult(await api.critical(result!.id));
  });
  const link = guard(async () => setAck((await api.ackLink(result!.id)).url));

  const left = result ? countdown(result.next_due_at || result.deadline_at, now) : null;
  return (
    <div className="modal-backdrop">
      <div role="dialog" aria-modal="true" aria-labelledby="crit-title" className="modal wide" onKeyDown={(e) => e.key === 'Escape' && onClose()}>
        <h2 id="crit-title">Critical result</h2>
        {!result ? (
          <form onSubmit={open}>
            <label>
              Category
              <select value={category} onChange={(e) => setCategory(e.target.value)} autoFocus>
                <option value="1">1 — immediate (call now)</option>
                <option value="2">2 — urgent (within hours)</option>
                <option value="3">3 — non-urgent (days)</option>
              </select>
            </label>
            <label>
              Finding
              <input name="finding" required value={finding} onChange={(e) => setFinding(e.target.value)} />
            </label>
            <div className="row">
              <button className="danger" type="submit">Open critical result</button>
              <button type="button" onClick={onClose}>Cancel</button>
            </div>
          </form>
        ) : (
          <>
            <p>
              <span className="badge" data-testid="critical-state">{result.state}</span> Category {result.category}: {result.finding.text}
              {left && <span className={`mono due-${left.risk}`}> · escalates in {left.text}</span>}
            </p>
            {result.attempts?.length ? (
              <ol className="small" data-testid="attempts">
                {result.attempts.map((a, i) => (
                  <li key={i}>{new Date(a.recorded_at || a.at).toLocaleTimeString('en-GB')} {a.method} to {a.to?.name}: {a.outcome}{a.read_back ? ', read back' : ''}</li>
                ))}
              </ol>
            ) : null}
            {result.state !== 'closed' && (
              <form onSubmit={log} className="attempt">
                <label>
                  Directory
                  <select onChange={(e) => {
                    const c = contacts.find((x) => x.id === e.target.value);
                    if (c) setTo({ name: c.name, role: c.role ?? '', callback: c.phones?.[0] ?? '' });
                  }}>
                    <option value="">— pick a contact or type below —</option>
                    {contacts.map((c) => (
                      <option key={c.id} value={c.id}>{c.name}{c.role ? ` (${c.role})` : ''}</option>
                    ))}
                  </select>
                </label>
                <div className="row">
                  <label>Name <input name="to-name" required value={to.name} onChange={(e) => setTo({ ...to, name: e.target.value })} /></label>
                  <label>Role <input value={to.role} onChange={(e) => setTo({ ...to, role: e.target.value })} /></label>
                  <label>Call-back <input value={to.callback} onChange={(e) => setTo({ ...to, callback: e.target.value })} /></label>
                </div>
                <div className="row">
                  <label>
                    Outcome{' '}
                    <select value={outcome} onChange={(e) => setOutcome(e.target.value)}>
                      <option value="reached">reached</option>
                      <option value="no_answer">no answer</option>
                      <option value="left_message">left message</option>
                      <option value="wrong_number">wrong number</option>
                    </select>
                  </label>
                  <label><input type="checkbox" checked={readBack} onChange={(e) => setReadBack(e.target.checked)} /> read back</label>
                  <button type="submit">Log call</button>
                </div>
              </form>
            )}
            {ack && <p className="small">Acknowledgement link: <code>{ack}</code></p>}
            <div className="row">
              {result.state !== 'closed' && <button onClick={() => void link()}>Acknowledgement link</button>}
              {result.state !== 'closed' && <button className="primary" onClick={() => void close()}>Close loop</button>}
              <button onClick={onClose}>Done</button>
            </div>
          </>
        )}
        {error && <p role="alert" className="error">{error}</p>}
      </div>
    </div>
  );
}
