import { useEffect, useRef } from 'react';

function Video({ stream, muted, label }: { stream: MediaStream | null; muted?: boolean; label: string }) {
  const ref = useRef<HTMLVideoElement>(null);
  useEffect(() => {
    if (ref.current) ref.current.srcObject = stream;
  }, [stream]);
  return <video ref={ref} autoPlay playsInline muted={muted} aria-label={label} className={stream ? '' : 'video-off'} />;
}

// VideoBox shows the call: the other side large, oneself small.
export function VideoBox({ remote, local, state }: { remote: MediaStream | null; local: MediaStream | null; state: string }) {
  return (
    <div className="video-box">
      <Video stream={remote} label="Remote video" />
      <Video stream={local} muted label="Your camera" />
      <span className="small muted" data-testid="call-state">{state}</span>
    </div>
  );
}
