import { useEffect, useRef, useState, type FormEvent } from 'react';
import { api, ApiError, onReauth } from '../../api/client';

// ReauthDialog answers the server's "reauth_required" (signing): the user
// confirms password and a fresh code, and the request is retried.
export function ReauthDialog() {
  const [pending, setPending] = useState<((ok: boolean) => void) | null>(null);
  const [password, setPassword] = useState('');
  const [code, setCode] = useState('');
  const [error, setError] = useState('');
  const first = useRef<HTMLInputElement>(null);

  useEffect(() => {
    onReauth(() => new Promise<boolean>((resolve) => setPending(() => resolve)));
    return () => onReauth(null);
  }, []);
  useEffect(() => {
    if (pending) first.current?.focus();
  }, [pending]);

  if (!pending) return null;
  const done = (ok: boolean) => {
    pending(ok);
    setPending(null);
    setPassword('');
    setCode('');
    setError('');
  };
  async function submit(e: FormEvent) {
    e.preventDefault();
    try {
      await api.reauth(password, code);
      done(true);
    } catch (err) {
      setError(err instanceof ApiError ? err.message : String(err));
      setCode('');
    }
  }
  return (
    <div className="modal-backdrop">
      <form role="dialog" aria-modal="true" aria-labelledby="reauth-title" className="modal" onSubmit={submit}
        onKeyDown={(e) => e.key === 'Escape' && done(false)}>
        <h2 id="reauth-title">Confirm it is you</h2>
        <p>Signing a report needs your password and a fresh authenticator code.</p>
        <label>
          Password
          <input ref={first} name="reauth-password" type="password" autoComplete="current-password" value={password} required
            onChange={(e) => setPassword(e.target.value)} />
        </label>
        <label>
          Authenticator code
          <input name="reauth-totp" inputMode="numeric" autoComplete="one-time-code" maxLength={6} value={code}
            onChange={(e) => setCode(e.target.value.replace(/\D/g, ''))} />
        </label>
        {error && <p role="alert" className="error">{error}</p>}
        <div className="row">
          <button type="submit" className="primary">Confirm</button>
          <button type="button" onClick={() => done(false)}>Cancel</button>
        </div>
      </form>
    </div>
  );
}
