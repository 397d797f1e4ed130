import { useEffect, useState } from 'react';
import { quality } from '../../api/client';
import { useAction } from '../forms/useAction';
import type { TumorBoard } from '../../api/types';
import { navigate } from '../../router';
import { fromLocalInput, list, localInput, when } from './time';

// TumorBoardsPage: the boards the user takes part in (staff: all), and a
// form to schedule one.
export function TumorBoardsPage({ canCreate }: { canCreate: boolean }) {
  const [boards, setBoards] = useState<TumorBoard[]>([]);
  const [error, setError] = useState('');
  const load = () => quality.boards().then(setBoards, (e: Error) => setError(e.message));
  useEffect(() => void load(), []);
  return (
    <main aria-labelledby="tb-title" className="quality">
      <h1 id="tb-title">Tumor boards</h1>
      {error && <p className="error" role="alert">{error}</p>}
      {boards.length === 0 ? <p className="muted">No tumor boards.</p> : (
        <table className="table" aria-label="Tumor boards">
          <thead><tr><th>Board</th><th>When</th><th>Disciplines</th><th>Participants</th></tr></thead>
          <tbody>
            {boards.map((b) => (
              <tr key={b.id}>
                <td><a href={`/tumor-boards/${b.id}`} onClick={(e) => { e.preventDefault(); navigate(`/tumor-boards/${b.id}`); }}>{b.title}</a></td>
                <td>{when(b.starts_at, b.ends_at)}</td><td>{b.disciplines.join(', ')}</td><td>{b.participants.join(', ')}</td>
              </tr>
            ))}
          </tbody>
        </table>
      )}
      {canCreate && <NewBoard onCreated={(b) => navigate(`/tumor-boards/${b.id}`)} />}
    </main>
  );
}

function NewBoard({ onCreated }: { onCreated: (b: TumorBoard) => void }) {
  const start = new Date(Date.now() + 5 * 60000);
  const [title, setTitle] = useState('');
  const [from, setFrom] = useState(localInput(start));
  const [to, setTo] = useState(localInput(new Date(start.getTime() + 3600000)));
  const [disciplines, setDisciplines] = useState('radiology, medical oncology, surgery, pathology');
  const [participants, setParticipants] = useState('');
  const [error, run] = useAction();
  const submit = () => run(async () => {
    onCreated(await quality.createBoard({ title, starts_at: fromLocalInput(from), ends_at: fromLocalInput(to),
      disciplines: list(disciplines), participants: list(participants) }));
  });
  return (
    <form className="panel" aria-labelledby="nb-title" onSubmit={(e) => { e.preventDefault(); void submit(); }}>
      <h2 id="nb-title">Schedule a board</h2>
      <div className="row">
        <label>Title <input value={title} onChange={(e) => setTitle(e.target.value)} required /></label>
        <label>Starts <input type="datetime-local" value={from} onChange={(e) => setFrom(e.target.value)} /></label>
        <label>Ends <input type="datetime-local" value={to} onChange={(e) => setTo(e.target.value)} /></label>
      </div>
      <div className="row">
        <label>Disciplines <input size={40} value={disciplines} onChange={(e) => setDisciplines(e.target.value)} /></label>
        <label>Participants (user names) <input size={30} value={participants} onChange={(e) => setParticipants(e.target.value)} /></label>
        <button type="submit">Create board</button>
      </div>
      {error && <p className="error" role="alert">{error}</p>}
    </form>
  );
}
