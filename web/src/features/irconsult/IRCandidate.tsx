import { useState } from 'react';
import { quality } from '../../api/client';
import type { IRConsult } from '../../api/types';

const IR_INDICATIONS = ['active bleed', 'high-risk PE', 'abscess for drainage', 'other'];
const IR_URGENCIES: IRConsult['urgency'][] = ['emergent', 'urgent', 'routine'];

// IndicationFields picks why the case is an IR candidate and how urgent it is.
export function IndicationFields({ indication, urgency, onIndication, onUrgency }: {
  indication: string; urgency: IRConsult['urgency']; onIndication: (v: string) => void; onUrgency: (v: IRConsult['urgency']) => void;
}) {
  return (
    <>
      <label>IR candidate
        <select value={indication} onChange={(e) => onIndication(e.target.value)}>{IR_INDICATIONS.map((i) => <option key={i}>{i}</option>)}</select>
      </label>
      <label>Urgency
        <select value={urgency} onChange={(e) => onUrgency(e.target.value as IRConsult['urgency'])}>{IR_URGENCIES.map((u) => <option key={u}>{u}</option>)}</select>
      </label>
    </>
  );
}

// IRCandidate: from the report, flag the case as an IR candidate; the
// consult goes to the IR on call for the facility's region, linked to this
// study and report.
export function IRCandidate({ uid, reportId, impression }: { uid: string; reportId?: string; impression?: string }) {
  const [open, setOpen] = useState(false);
  const [indication, setIndication] = useState('active bleed');
  const [urgency, setUrgency] = useState<IRConsult['urgency']>('emergent');
  const [question, setQuestion] = useState('');
  const [sent, setSent] = useState<IRConsult | null>(null);
  const [error, setError] = useState('');
  if (sent) {
    return (
      <p role="status" className="small" data-testid="ir-candidate-sent">
        IR consult #{sent.id} ({sent.indication}, {sent.urgency}) sent to {sent.consultant}, the IR on call.{' '}
        <a href="/ir-consults">IR consults</a>
      </p>
    );
  }
  if (!open) {
    return <button type="button" onClick={() => { setQuestion(impression ?? ''); setOpen(true); }}>IR candidate…</button>;
  }
  const submit = async () => {
    setError('');
    try {
      setSent(await quality.requestConsult({ study_uid: uid, report_id: reportId, source: 'report', indication, urgency, question }));
    } catch (e) {
      setError((e as Error).message);
    }
  };
  return (
    <form className="panel" aria-label="IR candidate" onSubmit={(e) => { e.preventDefault(); void submit(); }}>
      <div className="row">
        <IndicationFields indication={indication} urgency={urgency} onIndication={setIndication} onUrgency={setUrgency} />
      </div>
      <label>Question for IR <textarea rows={2} value={question} onChange={(e) => setQuestion(e.target.value)} required /></label>
      <div className="row">
        <button type="submit" className="primary">Send to IR on call</button>
        <button type="button" onClick={() => setOpen(false)}>Cancel</button>
      </div>
      {error && <p role="alert" className="error">{error}</p>}
    </form>
  );
}
