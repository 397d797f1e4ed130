import { useEffect, useState } from 'react';
import { api } from '../../api/client';

// ExtraWork is the reader's own opt-in to work beyond their fair share
// (one more routine case ahead; being ahead of colleagues no longer counts
// against them). Their caps still hold, and it stays until they turn it off.
export function ExtraWork() {
  const [on, setOn] = useState<boolean | null>(null);
  const [error, setError] = useState('');
  useEffect(() => {
    api.extraWork().then((r) => setOn(r.extra_work)).catch(() => setOn(null));
  }, []);
  if (on === null) return null;
  const toggle = async (v: boolean) => {
    setError('');
    try {
      setOn((await api.setExtraWork(v)).extra_work);
    } catch (e) {
      setError(String((e as Error).message ?? e));
    }
  };
  return (
    <label title="Take more than your fair share tonight; your own caps still hold">
      <input type="checkbox" checked={on} onChange={(e) => toggle(e.target.checked)} data-testid="extra-work" /> Extra work
      {error && <span role="alert" className="error"> {error}</span>}
    </label>
  );
}
