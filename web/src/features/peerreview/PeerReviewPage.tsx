import { useCallback, useEffect, useState } from 'react';
import { quality } from '../../api/client';
import { usePolicy } from '../forms/useAction';
import type { PeerPolicy, PeerRate, PeerReview, RadpeerScore } from '../../api/types';
import { navigate } from '../../router';
import { goesToArbitration, needsComment, percent, SCORES } from './radpeer';

// PeerReviewPage: RADPEER peer review. A reader scores the studies drawn
// for them (and arbitrates 2b+ scores sent to them), and sees the feedback
// on their own reports and their discrepancy rates; staff set the sampling
// policy, draw a month, see every reader's rates and export the CSV.
export function PeerReviewPage({ staff }: { staff: boolean }) {
  const [todo, setTodo] = useState<PeerReview[]>([]);
  const [mine, setMine] = useState<PeerReview[]>([]);
  const [rates, setRates] = useState<PeerRate[]>([]);
  const [error, setError] = useState('');
  const load = useCallback(async () => {
    try {
      const [t, m, r] = await Promise.all([
        staff ? quality.peerReviews('all') : quality.peerReviews('reviewer'),
        staff ? Promise.resolve([]) : quality.peerReviews('author'),
        quality.peerRates(),
      ]);
      setTodo(t);
      setMine(m);
      setRates(r);
    } catch (e) {
      setError(String((e as Error).message));
    }
  }, [staff]);
  useEffect(() => void load(), [load]);

  return (
    <main aria-labelledby="peer-title" className="quality">
      <h1 id="peer-title">Peer review</h1>
      {error && <p className="error" role="alert">{error}</p>}
      {staff && <PolicyPanel onDrawn={load} />}
      <section aria-labelledby="todo-title">
        <h2 id="todo-title">{staff ? 'All reviews' : 'To review'}</h2>
        {todo.length === 0 ? <p className="muted">Nothing to review.</p> : (
          <ul className="cards" aria-label="Reviews">
            {todo.map((r) => <ReviewCard key={r.id} review={r} staff={staff} onDone={load} />)}
          </ul>
        )}
      </section>
      {!staff && (
        <section aria-labelledby="fb-title">
          <h2 id="fb-title">Feedback on my reports</h2>
          {mine.length === 0 ? <p className="muted">No closed reviews of your reports yet.</p> : (
            <table className="table" aria-label="Feedback">
              <thead><tr><th>Month</th><th>Study</th><th>Score</th><th>Reviewer</th><th>Comment</th></tr></thead>
              <tbody>
                {mine.map((r) => (
                  <tr key={r.id}>
                    <td>{r.period}</td><td className="mono small">{r.study_uid}</td><td>{r.final_score}</td><td>{r.reviewer}</td>
                    <td>{[r.comment, r.arbiter_comment].filter(Boolean).join(' — ')}</td>
                  </tr>
                ))}
              </tbody>
            </table>
          )}
        </section>
      )}
      <section aria-labelledby="rates-title">
        <h2 id="rates-title">Discrepancy rates</h2>
        <RatesTable rates={rates} />
        {staff && <a href={quality.peerExportURL} download>Export CSV</a>}
      </section>
    </main>
  );
}

function ReviewCard({ review: r, staff, onDone }: { review: PeerReview; staff: boolean; onDone: () => void }) {
  const arbitrate = r.status === 'arbitration';
  const [score, setScore] = useState<RadpeerScore | ''>('');
  const [comment, setComment] = useState('');
  const [error, setError] = useState('');
  const [busy, setBusy] = useState(false);
  const canScore = !staff && r.status !== 'closed';
  const submit = async () => {
    if (!score) return;
    setBusy(true);
    setError('');
    try {
      await quality.scorePeerReview(r.id, score, comment, arbitrate);
      onDone();
    } catch (e) {
      setError(String((e as Error).message));
    } finally {
      setBusy(false);
    }
  };
  return (
    <li className="panel card" data-testid="peer-review" aria-label={`Review ${r.id}`}>
      <div className="row">
        <strong>{arbitrate ? 'Arbitration' : 'Review'} #{r.id}</strong>
        <span className="badge">{r.status}</span>
        <span className="muted">{r.period} · facility {r.facility_id} · author {r.author}</span>
        <span className="spacer" />
        <button onClick={() => navigate(`/case/${encodeURIComponent(r.study_uid)}`)}>Open study</button>
      </div>
      {arbitrate && <p>First reviewer scored <strong>{r.score}</strong>: {r.comment}</p>}
      {r.status === 'closed' && <p>Score <strong>{r.final_score}</strong>{r.comment ? `: ${r.comment}` : ''}</p>}
      {canScore && (
        <form onSubmit={(e) => { e.preventDefault(); void submit(); }}>
          <fieldset>
            <legend>RADPEER score</legend>
            {SCORES.map((s) => (
              <label key={s.score} className="score">
                <input type="radio" name={`score-${r.id}`} value={s.score} checked={score === s.score} onChange={() => setScore(s.score)} />
                <strong>{s.score}</strong> {s.label}
              </label>
            ))}
          </fieldset>
          <label>Comment{score && needsComment(score) ? ' (required)' : ''}
            <textarea value={comment} onChange={(e) => setComment(e.target.value)} rows={2} />
          </label>
          {score && goesToArbitration(score) && !arbitrate && <p className="notice">A second reviewer will arbitrate this score.</p>}
          {error && <p className="error" role="alert">{error}</p>}
          <button type="submit" disabled={!score || busy || (needsComment(score) && comment.trim().length < 3)}>
            {arbitrate ? 'Submit arbitration' : 'Submit score'}
          </button>
        </form>
      )}
    </li>
  );
}

function RatesTable({ rates }: { rates: PeerRate[] }) {
  if (rates.length === 0) return <p className="muted">No closed reviews yet.</p>;
  return (
    <table className="table" aria-label="Discrepancy rates">
      <thead><tr><th>Reader</th><th>Month</th><th>Reviewed</th><th>Discrepant (2a+)</th><th>Significant (2b+)</th><th>Rate</th></tr></thead>
      <tbody>
        {rates.map((r) => (
          <tr key={`${r.author}/${r.period}`}>
            <td>{r.author}</td><td>{r.period}</td><td>{r.reviewed}</td><td>{r.discrepant}</td><td>{r.significant}</td><td>{percent(r.rate)}</td>
          </tr>
        ))}
      </tbody>
    </table>
  );
}

function PolicyPanel({ onDrawn }: { onDrawn: () => void }) {
  const { policy: p, setPolicy: setP, msg, run, save } = usePolicy<PeerPolicy>(quality.peerPolicy, quality.savePeerPolicy, 'Policy saved.');
  const [month, setMonth] = useState(() => {
    const d = new Date();
    d.setUTCDate(1);
    d.setUTCMonth(d.getUTCMonth() - 1);
    return d.toISOString().slice(0, 7);
  });
  if (!p) return null;
  const draw = () => run(async () => {
    const d = await quality.drawPeerReviews(month);
    onDrawn();
    return `${d.month}: ${d.drawn.length} drawn of ${d.finals} finals${d.unassigned ? `, ${d.unassigned} without an eligible reviewer` : ''}.`;
  });
  return (
    <section className="panel" aria-labelledby="policy-title">
      <h2 id="policy-title">Sampling policy</h2>
      <div className="row">
        <label>Sample
          <select value={p.mode} onChange={(e) => setP({ ...p, mode: e.target.value as PeerPolicy['mode'] })}>
            <option value="percent">percent of finals</option>
            <option value="count">finals per reader</option>
          </select>
        </label>
        <label>Value <input type="number" min={0} value={p.value} onChange={(e) => setP({ ...p, value: Number(e.target.value) })} /></label>
        <label><input type="checkbox" checked={p.hide_author} onChange={(e) => setP({ ...p, hide_author: e.target.checked })} /> hide author from reviewers</label>
        <label><input type="checkbox" checked={p.hide_reviewer} onChange={(e) => setP({ ...p, hide_reviewer: e.target.checked })} /> hide reviewers from author</label>
        <button onClick={() => void save()}>Save policy</button>
      </div>
      <div className="row">
        <label>Month <input type="month" value={month} onChange={(e) => setMonth(e.target.value)} /></label>
        <button onClick={() => void draw()}>Draw reviews</button>
      </div>
      {msg && <p role="status">{msg}</p>}
    </section>
  );
}
