import { useState, type FormEvent, type ReactNode } from 'react';

// ReasonDialog asks for the reason every release, reassignment and
// correction must carry (and, for reassignment, extra fields).
export function ReasonDialog({ title, label, submit, onSubmit, onCancel, children }: {
  title: string;
  label: string;
  submit: string;
  onSubmit: (reason: string) => Promise<void>;
  onCancel: () => void;
  children?: ReactNode;
}) {
  const [reason, setReason] = useState('');
  const [error, setError] = useState('');
  async function go(e: FormEvent) {
    e.preventDefault();
    try {
      await onSubmit(reason);
    } catch (err) {
      setError(err instanceof Error ? err.message : String(err));
    }
  }
  return (
    <div className="modal-backdrop">
      <form role="dialog" aria-modal="true" aria-label={title} className="modal" onSubmit={go} onKeyDown={(e) => e.key === 'Escape' && onCancel()}>
        <h2>{title}</h2>
        {children}
        <label>
          {label}
          <input name="reason" autoFocus required value={reason} onChange={(e) => setReason(e.target.value)} />
        </label>
        {error && <p role="alert" className="error">{error}</p>}
        <div className="row">
          <button type="submit" className="primary">{submit}</button>
          <button type="button" onClick={onCancel}>Cancel</button>
        </div>
      </form>
    </div>
  );
}
