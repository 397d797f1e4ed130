import { useCallback, useEffect, useState } from 'react';
import { ApiError, collab } from '../../api/client';
import type { ChatMessage, Consult, ConsultCandidate, LiveEvent } from '../../api/types';
import { Chat } from './Chat';
import { Overlay } from './Overlay';
import { useCall } from './useCall';
import { useLive } from './useLive';
import { useShared } from './useShared';
import { VideoBox } from './VideoBox';
import { VisitHost } from './VisitHost';
import './collab.css';

// ConsultPanel is the case's second opinions: ask a colleague (by name or
// "any available <subspecialty>"), the thread, the consultant's opinion,
// shared viewing, a video call, and a patient's clinic visit.
export function ConsultPanel({ study, me, initial, onClose }: { study: string; me: string; initial: number; onClose: () => void }) {
  const [consults, setConsults] = useState<Consult[]>([]);
  const [selected, setSelected] = useState(initial);
  const [asking, setAsking] = useState(false);
  const [visit, setVisit] = useState(false);

  const reload = useCallback(() => {
    collab.consults(study).then((cs) => {
      setConsults(cs);
      setSelected((s) => s || cs[cs.length - 1]?.id || 0);
    }).catch(() => setConsults([]));
  }, [study]);
  useEffect(reload, [reload]);

  const current = consults.find((c) => c.id === selected);
  return (
    <aside className="consult-panel" aria-label="Consult">
      <header>
        <h2>Second opinion</h2>
        <span className="spacer" />
        <button onClick={onClose} aria-label="Close consult panel">×</button>
      </header>
      {consults.length > 1 && (
        <select aria-label="Consult" value={selected} onChange={(e) => setSelected(Number(e.target.value))}>
          {consults.map((c) => <option key={c.id} value={c.id}>{c.requester} → {c.consultant} · {c.status}</option>)}
        </select>
      )}
      {current ? <ConsultView key={current.id} c={current} me={me} onChange={(c) => setConsults((cs) => cs.map((x) => (x.id === c.id ? c : x)))} /> : <p className="muted">No consult on this case yet.</p>}
      <div className="consult-actions">
        <button onClick={() => setAsking((v) => !v)}>Ask for a second opinion</button>
        <button onClick={() => setVisit((v) => !v)}>Clinic visit</button>
      </div>
      {asking && <AskForm study={study} onAsked={(c) => { setAsking(false); setConsults((cs) => [...cs, c]); setSelected(c.id); }} />}
      {visit && <VisitHost study={study} />}
    </aside>
  );
}

function AskForm({ study, onAsked }: { study: string; onAsked: (c: Consult) => void }) {
  const [mode, setMode] = useState<'any' | 'named'>('any');
  const [who, setWho] = useState('');
  const [question, setQuestion] = useState('');
  const [why, setWhy] = useState<{ error: string; candidates: ConsultCandidate[] } | null>(null);
  const submit = async (e: React.FormEvent) => {
    e.preventDefault();
    setWhy(null);
    try {
      const r = await collab.ask(study, mode === 'any' ? { subspecialty: who.trim(), question } : { consultant: who.trim(), question });
      onAsked(r.consult);
    } catch (err) {
      if (err instanceof ApiError) setWhy({ error: err.message, candidates: (err.body.candidates as ConsultCandidate[]) ?? [] });
    }
  };
  return (
    <form className="ask-form" onSubmit={submit}>
      <label>
        Ask
        <select value={mode} onChange={(e) => setMode(e.target.value as 'any' | 'named')} aria-label="Whom to ask">
          <option value="any">any available reader of subspecialty</option>
          <option value="named">a named colleague</option>
        </select>
      </label>
      <label>
        {mode === 'any' ? 'Subspecialty (empty: anyone)' : 'Colleague (user name)'}
        <input value={who} onChange={(e) => setWho(e.target.value)} aria-label={mode === 'any' ? 'Subspecialty' : 'Colleague'} />
      </label>
      <label>
        Question
        <textarea value={question} onChange={(e) => setQuestion(e.target.value)} aria-label="Question" rows={3} required />
      </label>
      <button type="submit">Send request</button>
      {why && (
        <div className="ask-why" role="alert" data-testid="ask-why">
          <strong>{why.error}</strong>
          <ul>
            {why.candidates.map((c) => (
              <li key={c.reader_id}>{c.name || c.reader_id}: {(c.reasons ?? []).map((r) => r.reason).join('; ') || 'eligible'}</li>
            ))}
          </ul>
        </div>
      )}
    </form>
  );
}

function ConsultView({ c, me, onChange }: { c: Consult; me: string; onChange: (c: Consult) => void }) {
  const [messages, setMessages] = useState<ChatMessage[]>([]);
  const [present, setPresent] = useState<string[]>([]);
  const [ice, setIce] = useState<RTCIceServer[]>([]);
  const [opinion, setOpinion] = useState('');
  const other = me === c.requester ? c.consultant : c.requester;
  const send = useCallback((ev: Omit<LiveEvent, 'from'>) => collab.signal(c.study_uid, c.id, ev), [c.study_uid, c.id]);
  const shared = useShared(me, send);
  const call = useCall(send, ice);

  const load = useCallback(() => {
    collab.consult(c.study_uid, c.id).then((r) => {
      setMessages(r.messages);
      setPresent(r.present ?? []);
      onChange(r.consult);
    }).catch(() => {});
    // eslint-disable-next-line react-hooks/exhaustive-deps
  }, [c.study_uid, c.id]);
  useEffect(load, [load]);
  useEffect(() => {
    collab.rtc().then((r) => setIce(r.ice_servers)).catch(() => {});
  }, []);

  const add = (m: ChatMessage) => setMessages((ms) => (ms.some((x) => x.id === m.id) ? ms : [...ms, m]));
  useLive(collab.consultEventsURL(c.study_uid, c.id), (ev) => {
    switch (ev.kind) {
      case 'message': add(ev.data as ChatMessage); break;
      case 'opinion': onChange(ev.data as Consult); break;
      case 'join': setPresent((p) => (p.includes(ev.from) ? p : [...p, ev.from])); break;
      case 'leave': setPresent((p) => p.filter((x) => x !== ev.from)); break;
      case 'offer': case 'answer': case 'ice': case 'hangup': call.handle(ev); break;
      default: shared.handle(ev);
    }
  }, load);

  const online = present.includes(other);
  return (
    <section className="consult" data-testid="consult">
      <p className="small">
        <strong>{c.requester}</strong> asks <strong>{c.consultant}</strong>{c.subspecialty ? ` (${c.subspecialty})` : ''} ·{' '}
        <span data-testid="consult-status">{c.status}</span> · {c.rvu_credit} RVU credit ·{' '}
        <span className={online ? 'ok' : 'muted'}>{other} {online ? 'is here' : 'is not on this case'}</span>
      </p>
      <blockquote className="consult-question">{c.question}</blockquote>
      {c.opinion && (
        <div className="consult-opinion" data-testid="consult-opinion">
          <strong>Opinion of {c.consultant}:</strong> {c.opinion}
        </div>
      )}
      <Chat messages={messages} me={me} label="Consult thread" testid="consult-thread"
        onSend={async (body) => add(await collab.say(c.study_uid, c.id, body))} />
      {me === c.consultant && (
        <form className="opinion-form" onSubmit={async (e) => {
          e.preventDefault();
          onChange(await collab.opine(c.study_uid, c.id, opinion));
          setOpinion('');
        }}>
          <textarea aria-label="Your opinion" rows={3} value={opinion} onChange={(e) => setOpinion(e.target.value)} required />
          <button type="submit">Record opinion</button>
        </form>
      )}
      <div className="live-bar">
        <span data-testid="share-state" className="small">
          {shared.presenting ? 'You are presenting' : shared.presenter ? `${shared.presenter} presents` : 'Not sharing'}
        </span>
        {!shared.presenting && <button onClick={shared.present}>{shared.presenter ? 'Take control' : 'Present my view'}</button>}
        {shared.presenting && <button onClick={shared.stop}>Stop presenting</button>}
        {shared.presenter && !shared.presenting && (
          <label className="small"><input type="checkbox" checked={shared.follow} onChange={(e) => shared.setFollow(e.target.checked)} /> Follow</label>
        )}
      </div>
      {shared.presenter && !shared.presenting && shared.follow && <Overlay pointer={shared.pointer} view={shared.view} />}
      <div className="live-bar">
        {call.state === 'idle' || call.state === 'ended' || call.state === 'closed' ? (
          <button onClick={() => void call.start(other)}>Video call {other}</button>
        ) : (
          <button onClick={call.hangup} className="danger">Hang up</button>
        )}
        {call.incoming && <button onClick={call.answer}>Answer {call.incoming.from}</button>}
      </div>
      {call.state !== 'idle' && <VideoBox remote={call.remote} local={call.local} state={call.state} />}
    </section>
  );
}
