import { useEffect, useState } from 'react';
import { auditTrail } from '../../api/client';
import { DataTable } from '../dashboard/DataTable';
import { grantHeader, grantRow } from './rows';

// BreakGlassGrants: every emergency access opened since a day, with the
// reason the reader gave. The privacy officer's notice names only the
// reader and facility; the reason (free text that may name the patient)
// is read here, and that read is audited.
export function BreakGlassGrants({ since }: { since: string }) {
  const [rows, setRows] = useState<string[][] | null>(null);
  const [error, setError] = useState('');

  useEffect(() => {
    let live = true;
    auditTrail.breakGlassGrants(since).then(
      (gs) => { if (live) { setRows(gs.map(grantRow)); setError(''); } },
      (err: Error) => { if (live) setError(err.message); },
    );
    return () => { live = false; };
  }, [since]);

  return (
    <section className="panel audit-result" aria-labelledby="glass-title">
      <h2 id="glass-title">Break-glass grants since {since}</h2>
      {error && <p role="alert" className="banner">{error}</p>}
      {rows && <DataTable label="Break-glass grants" file="break-glass-grants.csv" header={grantHeader} rows={rows}
        empty="No emergency access in this range." />}
    </section>
  );
}
