import { useCallback, useEffect, useState } from 'react';
import { quality } from '../../api/client';
import { useAction } from '../forms/useAction';
import type { TeachingCase } from '../../api/types';

// TeachingPage: the group's teaching file — anonymised cases (DICOM PS3.15
// basic profile) browsable by subspecialty and finding; readers share a
// case with their teaching note.
export function TeachingPage({ canShare }: { canShare: boolean }) {
  const [sub, setSub] = useState('');
  const [finding, setFinding] = useState('');
  const [cases, setCases] = useState<TeachingCase[]>([]);
  const [error, setError] = useState('');
  const load = useCallback(() => quality.teaching(sub, finding).then(setCases, (e: Error) => setError(e.message)), [sub, finding]);
  useEffect(() => void load(), [load]);
  return (
    <main aria-labelledby="tf-title" className="quality">
      <h1 id="tf-title">Teaching file</h1>
      <div className="filters">
        <label>Subspecialty <input value={sub} onChange={(e) => setSub(e.target.value)} placeholder="neuro" /></label>
        <label>Finding <input value={finding} onChange={(e) => setFinding(e.target.value)} placeholder="subdural" /></label>
      </div>
      {error && <p className="error" role="alert">{error}</p>}
      {cases.length === 0 ? <p className="muted">No cases match.</p> : (
        <table className="table" aria-label="Teaching cases">
          <thead><tr><th>Subspecialty</th><th>Finding</th><th>Note</th><th>Images</th><th>Shared by</th></tr></thead>
          <tbody>
            {cases.map((c) => (
              <tr key={c.id}>
                <td>{c.subspecialty}</td><td>{c.finding}</td><td>{c.note}</td>
                <td><a href={quality.teachingInstanceURL(c.id, 1)} download>{c.instances} (DICOM)</a>{c.burned_in_unknown && <span className="notice"> · check for burned-in text</span>}</td>
                <td>{c.author}</td>
              </tr>
            ))}
          </tbody>
        </table>
      )}
      {canShare && <ShareForm onShared={load} />}
    </main>
  );
}

function ShareForm({ onShared }: { onShared: () => void }) {
  const [study, setStudy] = useState('');
  const [sub, setSub] = useState('');
  const [finding, setFinding] = useState('');
  const [note, setNote] = useState('');
  const [msg, run] = useAction();
  const share = () => run(async () => {
    const c = await quality.shareTeaching(study.trim(), sub, finding, note);
    onShared();
    return `Shared an anonymised copy (${c.instances} images).`;
  });
  return (
    <form className="panel" aria-labelledby="share-title" onSubmit={(e) => { e.preventDefault(); void share(); }}>
      <h2 id="share-title">Share a case</h2>
      <div className="row">
        <label>Study instance UID <input size={44} value={study} onChange={(e) => setStudy(e.target.value)} required /></label>
        <label>Subspecialty <input value={sub} onChange={(e) => setSub(e.target.value)} required /></label>
        <label>Finding <input value={finding} onChange={(e) => setFinding(e.target.value)} required /></label>
      </div>
      <label>Teaching note <textarea rows={2} value={note} onChange={(e) => setNote(e.target.value)} required /></label>
      <button type="submit">Share anonymised copy</button>
      {msg && <p role="status">{msg}</p>}
    </form>
  );
}
