import { useEffect, useRef, useState, type FormEvent } from 'react';
import QRCode from 'qrcode';
import { api, ApiError } from '../../api/client';
import type { Enrolment } from '../../api/types';
import { useSession } from './session';

type Step = 'password' | 'totp' | 'enrol';

export function LoginPage() {
  const { signedIn, notice } = useSession();
  const [step, setStep] = useState<Step>('password');
  const [username, setUsername] = useState('');
  const [password, setPassword] = useState('');
  const [code, setCode] = useState('');
  const [error, setError] = useState('');
  const [busy, setBusy] = useState(false);
  const [enrolment, setEnrolment] = useState<Enrolment | null>(null);
  const [qr, setQr] = useState('');
  const codeRef = useRef<HTMLInputElement>(null);

  useEffect(() => {
    if (step !== 'password') codeRef.current?.focus();
  }, [step]);

  useEffect(() => {
    if (!enrolment) return;
    // Rendered here, never by a third party: the secret stays on this machine.
    QRCode.toDataURL(enrolment.url, { margin: 2, width: 220, color: { dark: '#000000', light: '#ffffff' } }).then(setQr);
  }, [enrolment]);

  async function submit(e: FormEvent) {
    e.preventDefault();
    setError('');
    setBusy(true);
    try {
      if (step === 'enrol') {
        signedIn(await api.confirmEnrol(username, password, code));
        return;
      }
      signedIn(await api.login(username, password, step === 'totp' ? code : ''));
    } catch (err) {
      if (err instanceof ApiError) {
        if (err.body.totp_required && step === 'password') {
          setStep('totp');
        } else if (err.status === 403 && /enrol/.test(err.message)) {
          try {
            setEnrolment(await api.enrol(username, password));
            setStep('enrol');
          } catch (e2) {
            setError(e2 instanceof Error ? e2.message : String(e2));
          }
        } else {
          setError(err.message);
        }
      } else {
        setError('Lightbox is not reachable.');
      }
      setCode('');
    } finally {
      setBusy(false);
    }
  }

  return (
    <main className="login">
      <form onSubmit={submit} aria-labelledby="login-title" className="panel login-panel">
        <h1 id="login-title">Lightbox</h1>
        <p className="muted">Reading room sign-in</p>
        {notice && (
          <p role="status" className="notice">
            {notice}
          </p>
        )}
        <label>
          User name
          <input name="username" autoComplete="username" value={username} autoFocus required disabled={step !== 'password'}
            onChange={(e) => setUsername(e.target.value)} />
        </label>
        <label>
          Password
          <input name="password" type="password" autoComplete="current-password" value={password} required disabled={step !== 'password'}
            onChange={(e) => setPassword(e.target.value)} />
        </label>
        {step === 'enrol' && enrolment && (
          <div className="enrol" aria-live="polite">
            <h2>Set up your second factor</h2>
            <p>Scan this code with your authenticator app, then enter the six-digit code it shows.</p>
            {qr && <img src={qr} width={220} height={220} alt="QR code for the authenticator app" />}
            <p className="muted">
              Or type the key: <code data-testid="totp-secret">{enrolment.secret}</code>
            </p>
          </div>
        )}
        {step !== 'password' && (
          <label>
            {step === 'enrol' ? 'Code from the app' : 'Authenticator code'}
            <input ref={codeRef} name="totp" inputMode="numeric" autoComplete="one-time-code" pattern="[0-9]{6}" maxLength={6} required
              value={code} onChange={(e) => setCode(e.target.value.replace(/\D/g, ''))} />
          </label>
        )}
        {error && (
          <p role="alert" className="error">
            {error}
          </p>
        )}
        <button type="submit" className="primary" disabled={busy}>
          {step === 'enrol' ? 'Confirm and sign in' : 'Sign in'}
        </button>
        {step !== 'password' && (
          <button type="button" onClick={() => { setStep('password'); setEnrolment(null); setCode(''); setError(''); }}>
            Back
          </button>
        )}
      </form>
    </main>
  );
}
