import { useCallback, useEffect, useState } from 'react';
import { quality } from '../../api/client';
import { useAction, usePolicy } from '../forms/useAction';
import type { MentorPolicy, OverRead } from '../../api/types';

// MentoringPage: mentored reading — a new reader sees the over-reads of
// their reports and the senior's comments; a senior comments on the ones
// assigned to them; staff set the group's policy.
export function MentoringPage({ me, staff }: { me: string; staff: boolean }) {
  const [list, setList] = useState<OverRead[]>([]);
  const [error, setError] = useState('');
  const load = useCallback(() => (staff ? Promise.resolve() : quality.overReads().then(setList, (e: Error) => setError(e.message))), [staff]);
  useEffect(() => void load(), [load]);
  return (
    <main aria-labelledby="mr-title" className="quality">
      <h1 id="mr-title">Mentored reading</h1>
      {error && <p className="error" role="alert">{error}</p>}
      {staff ? <PolicyForm /> : list.length === 0 ? <p className="muted">No over-reads yet.</p> : (
        <ul className="cards" aria-label="Over-reads">
          {list.map((o) => <OverReadCard key={o.id} o={o} me={me} onDone={load} />)}
        </ul>
      )}
    </main>
  );
}

function OverReadCard({ o, me, onDone }: { o: OverRead; me: string; onDone: () => void }) {
  const [text, setText] = useState('');
  const [error, run] = useAction();
  const send = () => run(async () => {
    await quality.commentOverRead(o.id, text);
    onDone();
  });
  return (
    <li className="panel card">
      <div className="row">
        <strong>{o.author === me ? `Over-read by ${o.mentor}` : `Over-read of ${o.author}'s report`}</strong>
        <span className="badge">{o.stage === 'before' ? 'before the final' : 'after the final'}</span>
        <span className="badge">{o.status}</span>
        <span className="mono small muted">{o.study_uid}</span>
      </div>
      {o.comment && <p>{o.comment}</p>}
      {o.mentor === me && o.status === 'open' && (
        <form onSubmit={(e) => { e.preventDefault(); void send(); }}>
          <label>Comment for {o.author} <textarea rows={2} value={text} onChange={(e) => setText(e.target.value)} /></label>
          <button type="submit" disabled={!text.trim()}>Send comment</button>
        </form>
      )}
      {error && <p className="error" role="alert">{error}</p>}
    </li>
  );
}

function PolicyForm() {
  const { policy: p, setPolicy: setP, msg, save } = usePolicy<MentorPolicy>(quality.mentorPolicy, quality.saveMentorPolicy, 'Saved.');
  if (!p) return null;
  return (
    <form className="panel row" aria-label="Mentored reading policy" onSubmit={(e) => { e.preventDefault(); void save(); }}>
      <label><input type="checkbox" checked={p.enabled} onChange={(e) => setP({ ...p, enabled: e.target.checked })} /> mentored reading on</label>
      <label>New for (months) <input type="number" min={1} max={60} value={p.new_months} onChange={(e) => setP({ ...p, new_months: Number(e.target.value) })} /></label>
      <label>Share over-read (%) <input type="number" min={0} max={100} value={p.share_percent} onChange={(e) => setP({ ...p, share_percent: Number(e.target.value) })} /></label>
      <label>Stage
        <select value={p.stage} onChange={(e) => setP({ ...p, stage: e.target.value as MentorPolicy['stage'] })}>
          <option value="before">before the final</option><option value="after">after the final</option>
        </select>
      </label>
      <button type="submit">Save policy</button>
      {msg && <span role="status">{msg}</span>}
    </form>
  );
}
