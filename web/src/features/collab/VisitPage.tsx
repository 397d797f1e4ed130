import { useCallback, useState } from 'react';
import { ApiError, collab } from '../../api/client';
import type { LiveEvent } from '../../api/types';
import { useCall } from './useCall';
import { useLive } from './useLive';
import { VideoBox } from './VideoBox';
import './collab.css';

const noServers: RTCIceServer[] = [];

// VisitPage is the patient's side of a virtual clinic visit, reached by
// the link /visit#<token> with no account: consent first, then the call
// and what the physician shares. The token stays in the fragment, which
// the browser never sends to a server.
export function VisitPage() {
  const [token] = useState(() => location.hash.slice(1));
  const [name, setName] = useState('');
  const [consent, setConsent] = useState(false);
  const [joined, setJoined] = useState<{ physician: string; ice_servers: RTCIceServer[] } | null>(null);
  const [error, setError] = useState('');
  const [frame, setFrame] = useState('');
  const send = useCallback((ev: Omit<LiveEvent, 'from'>) => collab.guestSignal(ev), []);
  const call = useCall(send, joined?.ice_servers ?? noServers, true);

  useLive(joined ? collab.guestEventsURL : null, (ev) => {
    if (ev.kind === 'frame') setFrame(String(ev.data));
    else if (['offer', 'answer', 'ice', 'hangup'].includes(ev.kind)) call.handle(ev);
  }, () => void send({ kind: 'hello' }).catch(() => {}));

  if (!joined) {
    return (
      <main className="visit-page">
        <h1>Virtual clinic visit</h1>
        <form onSubmit={async (e) => {
          e.preventDefault();
          setError('');
          try {
            const r = await collab.joinVisit(token, name, consent);
            history.replaceState(null, '', '/visit'); // the used token leaves the address bar
            setJoined(r);
          } catch (err) {
            setError(err instanceof ApiError ? err.message : String(err));
          }
        }}>
          <label>Your name <input value={name} onChange={(e) => setName(e.target.value)} required aria-label="Your name" /></label>
          <label className="consent">
            <input type="checkbox" checked={consent} onChange={(e) => setConsent(e.target.checked)} aria-label="I consent" />
            I consent to this video visit: my physician will show and discuss my images; the visit (who, when, my consent) is recorded.
          </label>
          <button type="submit" disabled={!consent}>Join the visit</button>
          {error && <p role="alert" className="danger">{error}</p>}
        </form>
      </main>
    );
  }
  return (
    <main className="visit-page">
      <h1>Visit with {joined.physician}</h1>
      <div className="visit-body">
        <VideoBox remote={call.remote} local={call.local} state={call.state} />
        {frame ? <img src={frame} alt="What your physician shares" className="visit-frame" data-testid="visit-frame" /> : <p className="muted">Your physician has not shared images yet.</p>}
      </div>
    </main>
  );
}
