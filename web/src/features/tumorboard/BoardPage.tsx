import { useCallback, useEffect, useState } from 'react';
import { quality } from '../../api/client';
import { useAction } from '../forms/useAction';
import type { BoardCase, BoardGrant, KeyImageRef, TumorBoard } from '../../api/types';
import { navigate } from '../../router';
import { when } from './time';

// BoardPage: one tumor board — its cases with key images bookmarked in the
// viewer, presenter notes and the board's recommendation, and the
// temporary access grants of participants from outside the facility.
export function BoardPage({ id }: { id: number }) {
  const [board, setBoard] = useState<TumorBoard | null>(null);
  const [grants, setGrants] = useState<BoardGrant[]>([]);
  const [error, setError] = useState('');
  const load = useCallback(() => quality.board(id).then((r) => { setBoard(r.board); setGrants(r.grants); }, (e: Error) => setError(e.message)), [id]);
  useEffect(() => void load(), [load]);
  if (error) return <main className="quality"><p className="error" role="alert">{error}</p></main>;
  if (!board) return <p className="muted">Loading…</p>;
  return (
    <main aria-labelledby="board-title" className="quality">
      <h1 id="board-title">{board.title}</h1>
      <p className="muted">{when(board.starts_at, board.ends_at)} · {board.disciplines.join(', ')}</p>
      <p>Participants: {board.participants.join(', ')}</p>
      <section aria-labelledby="cases-title">
        <h2 id="cases-title">Cases</h2>
        {board.cases.length === 0 && <p className="muted">No cases yet.</p>}
        <ol className="cards" aria-label="Board cases">
          {board.cases.map((c, i) => <CaseCard key={c.id} n={i + 1} boardID={board.id} c={c} />)}
        </ol>
        <AddCase boardID={board.id} onAdded={load} />
      </section>
      <section aria-labelledby="grants-title">
        <h2 id="grants-title">Temporary access</h2>
        {grants.length === 0 ? <p className="muted">Every participant holds privileges at the cases' facilities.</p> : (
          <table className="table" aria-label="Access grants">
            <thead><tr><th>Participant</th><th>Facility</th><th>Study</th><th>Expires</th></tr></thead>
            <tbody>
              {grants.map((g) => (
                <tr key={g.id}><td>{g.username}</td><td>{g.facility_id}</td><td className="mono small">{g.study_uid}</td><td>{new Date(g.expires_at).toLocaleString()}</td></tr>
              ))}
            </tbody>
          </table>
        )}
        <p className="muted small">Grants end an hour after the board; every access under them is audited.</p>
      </section>
    </main>
  );
}

function CaseCard({ n, boardID, c }: { n: number; boardID: number; c: BoardCase }) {
  const [notes, setNotes] = useState(c.notes);
  const [rec, setRec] = useState(c.recommendation);
  const [keys, setKeys] = useState<KeyImageRef[]>([]);
  const [status, run] = useAction();
  useEffect(() => void quality.keyImages(c.study_uid).then(setKeys, () => setKeys([])), [c.study_uid]);
  const save = () => run(async () => {
    await quality.updateBoardCase(boardID, c.id, notes, rec);
    return 'Saved.';
  });
  return (
    <li className="panel card" data-testid="board-case">
      <div className="row">
        <strong>Case {n}</strong>
        <span className="muted">facility {c.facility_id} · presented by {c.presenter}</span>
        <span className="spacer" />
        <button onClick={() => navigate(`/case/${encodeURIComponent(c.study_uid)}`)}>Open images</button>
      </div>
      <p className="small">Key images: {keys.length === 0 ? 'none bookmarked' : keys.map((k) => k.note || `frame ${k.frame}`).join('; ')}</p>
      <label>Presenter notes <textarea rows={2} value={notes} onChange={(e) => setNotes(e.target.value)} /></label>
      <label>Board recommendation <textarea rows={2} value={rec} onChange={(e) => setRec(e.target.value)} /></label>
      <div className="row">
        <button onClick={() => void save()}>Save case</button>
        {status && <span role="status">{status}</span>}
      </div>
    </li>
  );
}

function AddCase({ boardID, onAdded }: { boardID: number; onAdded: () => void }) {
  const [study, setStudy] = useState('');
  const [notes, setNotes] = useState('');
  const [error, run] = useAction();
  const add = () => run(async () => {
    await quality.addBoardCase(boardID, study.trim(), notes);
    setStudy('');
    setNotes('');
    onAdded();
  });
  return (
    <form className="row" onSubmit={(e) => { e.preventDefault(); void add(); }}>
      <label>Study instance UID <input size={50} value={study} onChange={(e) => setStudy(e.target.value)} required /></label>
      <label>Notes <input size={30} value={notes} onChange={(e) => setNotes(e.target.value)} /></label>
      <button type="submit">Add case</button>
      {error && <span className="error" role="alert">{error}</span>}
    </form>
  );
}
