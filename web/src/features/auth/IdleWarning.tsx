import { useEffect, useRef, useState } from 'react';
import { api, onExpiresIn } from '../../api/client';
import { idleNotice, useSession } from './session';

// warnAt: the warning shows this long before the server's idle logoff.
const warnAt = 60;

// IdleWarning follows the server's idle countdown (sent with every
// response, and polled without counting as activity) and warns a minute
// before automatic logoff; "Stay signed in" makes one active request.
export function IdleWarning() {
  const { logout } = useSession();
  const [left, setLeft] = useState<number | null>(null);
  const deadline = useRef(0);
  const button = useRef<HTMLButtonElement>(null);

  useEffect(() => {
    const set = (s: number) => {
      deadline.current = Date.now() + s * 1000;
    };
    const off = onExpiresIn(set);
    const poll = setInterval(() => void api.session().then((s) => set(s.expires_in)).catch(() => {}), 20000);
    void api.session().then((s) => set(s.expires_in)).catch(() => {});
    const tick = setInterval(() => {
      if (!deadline.current) return;
      setLeft(Math.ceil((deadline.current - Date.now()) / 1000));
    }, 1000);
    return () => {
      off();
      clearInterval(poll);
      clearInterval(tick);
    };
  }, []);

  const warn = left !== null && left <= warnAt;
  useEffect(() => {
    if (left !== null && left <= 0) void logout(idleNotice);
  }, [left, logout]);
  useEffect(() => {
    if (warn) button.current?.focus();
  }, [warn]);

  if (!warn || left === null || left <= 0) return null;
  return (
    <div className="modal-backdrop">
      <div role="alertdialog" aria-modal="true" aria-labelledby="idle-title" className="modal">
        <h2 id="idle-title">Still reading?</h2>
        <p>
          You will be signed out in <strong data-testid="idle-seconds">{left}</strong> s.
        </p>
        <button ref={button} className="primary" onClick={() => void api.touch()}>
          Stay signed in
        </button>
      </div>
    </div>
  );
}
