import { useState, type ReactNode } from 'react';

// ActionDialog is a modal form for one action; a refusal from the server is
// shown in it and leaves it open.
export function ActionDialog({ label, title, submit, onSubmit, onCancel, children }: {
  label: string;
  title: string;
  submit: string;
  onSubmit: () => Promise<void>;
  onCancel: () => void;
  children?: ReactNode;
}) {
  const [error, setError] = useState('');
  return (
    <div className="modal-backdrop">
      <form className="modal" role="dialog" aria-modal="true" aria-label={label} onKeyDown={(e) => e.key === 'Escape' && onCancel()}
        onSubmit={(e) => {
          e.preventDefault();
          setError('');
          onSubmit().catch((err: unknown) => setError(err instanceof Error ? err.message : String(err)));
        }}>
        <h2>{title}</h2>
        {children}
        {error && <p role="alert" className="error">{error}</p>}
        <div className="row">
          <button type="submit" className="primary">{submit}</button>
          <button type="button" onClick={onCancel}>Cancel</button>
        </div>
      </form>
    </div>
  );
}

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
  return (
    <ActionDialog label={title} title={title} submit={submit} onSubmit={() => onSubmit(reason)} onCancel={onCancel}>
      {children}
      <label>
        {label}
        <input name="reason" autoFocus required value={reason} onChange={(e) => setReason(e.target.value)} />
      </label>
    </ActionDialog>
  );
}
