import { useCallback, useEffect, useState } from 'react';
import { quality } from '../../api/client';
import { useAction } from '../forms/useAction';
import type { IRConsult } from '../../api/types';
import { IndicationFields } from './IRCandidate';

// minutes between two ISO times, for the consult's timeline.
const minutes = (from: string, to?: string) => (to ? `${Math.round((Date.parse(to) - Date.parse(from)) / 60000)} min` : '—');

// IRConsultsPage: interventional radiology teleconsults the user asked for
// or answers as the IR on call — request, accept, recommend, decide.
export function IRConsultsPage({ me }: { me: string }) {
  const [list, setList] = useState<IRConsult[]>([]);
  const [error, setError] = useState('');
  const load = useCallback(() => quality.consults().then(setList, (e: Error) => setError(e.message)), []);
  useEffect(() => void load(), [load]);
  return (
    <main aria-labelledby="ir-title" className="quality">
      <h1 id="ir-title">IR consults</h1>
      {error && <p className="error" role="alert">{error}</p>}
      <RequestForm onDone={load} />
      {list.length === 0 ? <p className="muted">No consults.</p> : (
        <ul className="cards" aria-label="Consults">
          {list.map((c) => <ConsultCard key={c.id} c={c} me={me} onDone={load} />)}
        </ul>
      )}
    </main>
  );
}

function RequestForm({ onDone }: { onDone: () => void }) {
  const [study, setStudy] = useState('');
  const [indication, setIndication] = useState('active bleed');
  const [urgency, setUrgency] = useState<IRConsult['urgency']>('emergent');
  const [question, setQuestion] = useState('');
  const [msg, run] = useAction();
  const submit = () => run(async () => {
    const c = await quality.requestConsult({ study_uid: study.trim(), source: 'report', indication, urgency, question });
    setQuestion('');
    onDone();
    return `Routed to ${c.consultant}, the IR on call.`;
  });
  return (
    <form className="panel" aria-labelledby="irreq-title" onSubmit={(e) => { e.preventDefault(); void submit(); }}>
      <h2 id="irreq-title">Request a consult</h2>
      <div className="row">
        <label>Study instance UID <input size={44} value={study} onChange={(e) => setStudy(e.target.value)} required /></label>
        <IndicationFields indication={indication} urgency={urgency} onIndication={setIndication} onUrgency={setUrgency} />
      </div>
      <label>Question <textarea rows={2} value={question} onChange={(e) => setQuestion(e.target.value)} required /></label>
      <button type="submit">Send to IR on call</button>
      {msg && <p role="status">{msg}</p>}
    </form>
  );
}

function ConsultCard({ c, me, onDone }: { c: IRConsult; me: string; onDone: () => void }) {
  const mine = c.consultant === me;
  const [imaging, setImaging] = useState(c.imaging_reviewed ?? '');
  const [rec, setRec] = useState(c.recommendation ?? '');
  const [decision, setDecision] = useState<'transfer' | 'local'>('local');
  const [centre, setCentre] = useState('');
  const [error, run] = useAction();
  const step = (s: 'accept' | 'recommend' | 'close', body: Record<string, string> = {}) => run(async () => {
    await quality.consultStep(c.id, s, body);
    onDone();
  });
  return (
    <li className="panel card" data-testid="ir-consult">
      <div className="row">
        <strong>#{c.id} {c.indication}</strong>
        <span className="badge">{c.urgency}</span>
        <span className="badge">{c.status}</span>
        <span className="muted">facility {c.facility_id} · from {c.requester} · IR {c.consultant}</span>
        <span className="spacer" />
        <a href={`/api/ir-consults/${c.id}/fhir`}>FHIR</a>
      </div>
      <p>{c.question}</p>
      <p className="small muted">accepted {minutes(c.requested_at, c.accepted_at)} · recommendation {minutes(c.requested_at, c.recommended_at)} · closed {minutes(c.requested_at, c.closed_at)}</p>
      {c.recommendation && <p><strong>Recommendation:</strong> {c.recommendation} <span className="muted">(imaging reviewed: {c.imaging_reviewed})</span></p>}
      {c.decision && <p><strong>Decision:</strong> {c.decision === 'transfer' ? `transfer to ${c.receiving_centre}` : 'local management'}</p>}
      {mine && c.status === 'requested' && <button onClick={() => void step('accept')}>Accept</button>}
      {mine && (c.status === 'accepted' || c.status === 'recommended') && (
        <form onSubmit={(e) => { e.preventDefault(); void step('recommend', { imaging_reviewed: imaging, recommendation: rec }); }}>
          <label>Imaging reviewed <input size={40} value={imaging} onChange={(e) => setImaging(e.target.value)} /></label>
          <label>Recommendation <textarea rows={2} value={rec} onChange={(e) => setRec(e.target.value)} /></label>
          <button type="submit">Record recommendation</button>
        </form>
      )}
      {mine && c.status === 'recommended' && (
        <form className="row" onSubmit={(e) => { e.preventDefault(); void step('close', { decision, receiving_centre: centre }); }}>
          <label>Decision
            <select value={decision} onChange={(e) => setDecision(e.target.value as 'transfer' | 'local')}>
              <option value="local">local management</option><option value="transfer">transfer</option>
            </select>
          </label>
          {decision === 'transfer' && <label>Receiving centre <input value={centre} onChange={(e) => setCentre(e.target.value)} /></label>}
          <button type="submit">Close consult</button>
        </form>
      )}
      {error && <p className="error" role="alert">{error}</p>}
    </li>
  );
}
