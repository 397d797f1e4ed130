import { useCallback, useEffect, useState } from 'react';
import { collab } from '../../api/client';
import type { LiveEvent, Visit } from '../../api/types';
import { viewer } from '../viewer/bridge';
import { useCall } from './useCall';
import { useLive } from './useLive';
import { VideoBox } from './VideoBox';

// VisitHost is the physician's side of a virtual clinic visit: a
// single-use link for the patient, the call (started when the patient
// arrives), and what the patient sees of the images: frames of the first
// pane, only while "share my view" is on.
export function VisitHost({ study }: { study: string }) {
  const [visit, setVisit] = useState<Visit | null>(null);
  const [link, setLink] = useState('');
  const [ice, setIce] = useState<RTCIceServer[]>([]);
  const [sharing, setSharing] = useState(true);
  const send = useCallback(
    (ev: Omit<LiveEvent, 'from'>) => (visit ? collab.visitSignal(study, visit.id, ev) : Promise.resolve()),
    [study, visit],
  );
  const call = useCall(send, ice);

  useEffect(() => {
    collab.rtc().then((r) => setIce(r.ice_servers)).catch(() => {});
  }, []);

  useLive(visit ? collab.visitEventsURL(study, visit.id) : null, (ev) => {
    if (ev.kind === 'hello' && call.state !== 'connected') {
      if (visit) void collab.visit(study, visit.id).then(setVisit).catch(() => {});
      void call.start(ev.from);
    } else if (['offer', 'answer', 'ice', 'hangup'].includes(ev.kind)) call.handle(ev);
  });

  // Frames of the viewer, twice a second, while sharing with a joined patient.
  useEffect(() => {
    if (!visit?.joined_at || !sharing) return;
    const t = setInterval(() => {
      const f = viewer()?.snapshot(480);
      if (f) void send({ kind: 'frame', data: f }).catch(() => {});
    }, 500);
    return () => clearInterval(t);
  }, [visit?.joined_at, sharing, send]);

  if (!visit) {
    return (
      <div className="visit-host">
        <p className="small">A patient joins by a link that works once and expires; they see only what you share.</p>
        <button onClick={async () => {
          const r = await collab.invite(study);
          setVisit(r.visit);
          setLink(location.origin + r.link);
        }}>Create patient link</button>
      </div>
    );
  }
  return (
    <div className="visit-host">
      {link && !visit.joined_at && (
        <p className="small">
          Send this link to the patient (valid once, until {new Date(visit.expires_at).toLocaleTimeString()}):
          <input readOnly value={link} aria-label="Patient link" data-testid="visit-link" onFocus={(e) => e.target.select()} />
        </p>
      )}
      {visit.joined_at && (
        <p className="small" data-testid="visit-joined">
          {visit.patient_name} joined {new Date(visit.joined_at).toLocaleTimeString()} · consent {visit.consent ? 'given' : 'not given'}
        </p>
      )}
      <label className="small"><input type="checkbox" checked={sharing} onChange={(e) => setSharing(e.target.checked)} /> Share my view</label>
      {call.state !== 'idle' && <VideoBox remote={call.remote} local={call.local} state={call.state} />}
      <button className="danger" onClick={async () => {
        call.hangup();
        setVisit(await collab.endVisit(study, visit.id));
      }} disabled={!!visit.ended_at}>End visit</button>
    </div>
  );
}
