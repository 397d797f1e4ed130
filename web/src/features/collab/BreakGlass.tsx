import { useState } from 'react';
import { collab } from '../../api/client';
import { ReasonDialog } from '../worklist/ReasonDialog';

// BreakGlass offers emergency access to a study outside the reader's
// scope: a reason, then a time-limited grant that is audited as an
// emergency override and reported to the privacy officer at once.
export function BreakGlass({ study, onGranted }: { study: string; onGranted: () => void }) {
  const [asking, setAsking] = useState(false);
  const [until, setUntil] = useState('');
  return (
    <div className="break-glass" role="alert">
      <p>This study is outside your scope (no privileges at its facility, or it does not exist).</p>
      {until ? (
        <p>Emergency access granted until {new Date(until).toLocaleTimeString()}. Every access is audited.</p>
      ) : (
        <button className="danger" onClick={() => setAsking(true)}>Break glass…</button>
      )}
      {asking && (
        <ReasonDialog title="Break glass" label="Why must you open this study now? (audited, the privacy officer is told)" submit="Open in an emergency"
          onCancel={() => setAsking(false)}
          onSubmit={async (reason) => {
            const g = await collab.breakGlass(study, reason);
            setAsking(false);
            setUntil(g.expires_at);
            onGranted();
          }} />
      )}
    </div>
  );
}
