import { useState } from 'react';
import { api, ApiError } from '../../api/client';
import type { RosterChange, WeekReader } from '../../api/types';

// ChangeForm: a one-off roster change — an extra shift, a vacation, or a
// swap (the reader's time goes to a colleague). Times are the browser's.
export function ChangeForm({ readers, onDone }: { readers: WeekReader[]; onDone: () => void }) {
  const [kind, setKind] = useState<RosterChange['kind']>('extra');
  const [reader, setReader] = useState('');
  const [withID, setWith] = useState('');
  const [start, setStart] = useState('');
  const [end, setEnd] = useState('');
  const [msg, setMsg] = useState('');
  const [error, setError] = useState('');
  const submit = async (e: React.FormEvent) => {
    e.preventDefault();
    setError('');
    setMsg('');
    try {
      await api.rosterChange({ kind, reader_id: reader, with: kind === 'swap' ? withID : undefined, type: kind === 'vacation' ? undefined : 'swing',
        start: new Date(start).toISOString(), end: new Date(end).toISOString() });
      setMsg(`Recorded: ${kind} for ${reader}${kind === 'swap' ? ` with ${withID}` : ''}.`);
      onDone();
    } catch (err) {
      setError(err instanceof ApiError || err instanceof Error ? err.message : String(err));
    }
  };
  const pick = (v: string, set: (s: string) => void, label: string) => (
    <label>{label}
      <select value={v} onChange={(e) => set(e.target.value)} required aria-label={label}>
        <option value="">—</option>
        {readers.map((r) => <option key={r.id} value={r.id}>{r.name || r.id}</option>)}
      </select>
    </label>
  );
  return (
    <form className="row change-form" onSubmit={(e) => void submit(e)} aria-label="One-off change">
      <strong>One-off change</strong>
      <label>Kind
        <select value={kind} onChange={(e) => setKind(e.target.value as RosterChange['kind'])} aria-label="Kind">
          <option value="extra">extra shift</option>
          <option value="vacation">vacation</option>
          <option value="swap">swap</option>
        </select>
      </label>
      {pick(reader, setReader, 'Reader')}
      {kind === 'swap' && pick(withID, setWith, 'Covered by')}
      <label>From <input type="datetime-local" value={start} onChange={(e) => setStart(e.target.value)} required aria-label="From" /></label>
      <label>To <input type="datetime-local" value={end} onChange={(e) => setEnd(e.target.value)} required aria-label="To" /></label>
      <button type="submit" className="primary">Record</button>
      {msg && <span role="status" className="ok">{msg}</span>}
      {error && <span role="alert" className="error">{error}</span>}
    </form>
  );
}
