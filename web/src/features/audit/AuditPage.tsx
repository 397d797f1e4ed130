import { useState, type FormEvent } from 'react';
import { auditTrail } from '../../api/client';
import type { PatientAccessQuery } from '../../api/types';
import { daysBefore } from '../dashboard/csv';
import { DataTable } from '../dashboard/DataTable';
import { RangePicker, type Range } from '../dashboard/RangePicker';
import { BreakGlassGrants } from './BreakGlassGrants';
import { accessHeader, accessRow } from './rows';

// AuditPage: the privacy officer's question — who accessed this patient's
// records, when, from where, what, with which outcome — for a date range,
// exported as CSV exactly as shown. The patient stays in component state
// (sent in a POST body), never in this page's URL.
export function AuditPage() {
  const [issuer, setIssuer] = useState('');
  const [patientID, setPatientID] = useState('');
  const [range, setRange] = useState<Range>({ from: daysBefore(179), to: daysBefore(0) });
  const [rows, setRows] = useState<string[][] | null>(null);
  const [asked, setAsked] = useState<PatientAccessQuery | null>(null);
  const [error, setError] = useState('');
  const [busy, setBusy] = useState(false);

  const search = (e: FormEvent) => {
    e.preventDefault();
    const q = { issuer: issuer.trim(), patient_id: patientID.trim(), since: range.from, until: range.to };
    setBusy(true);
    setError('');
    auditTrail.patientAccesses(q).then(
      (evs) => { setRows(evs.map(accessRow)); setAsked(q); },
      (err: Error) => { setRows(null); setError(err.message); },
    ).finally(() => setBusy(false));
  };

  return (
    <main aria-labelledby="audit-title" className="audit">
      <div className="toolbar">
        <h1 id="audit-title">Audit</h1>
        <span className="muted small">Who accessed a patient's records (every search here is itself audited)</span>
      </div>
      <form className="panel audit-query" onSubmit={search} aria-label="Patient">
        <div className="row">
          <label>Issuer of patient ID <input value={issuer} onChange={(e) => setIssuer(e.target.value)} required autoComplete="off" placeholder="e.g. SGH-MRN" /></label>
          <label>Patient ID <input value={patientID} onChange={(e) => setPatientID(e.target.value)} required autoComplete="off" /></label>
          <button type="submit" className="primary" disabled={busy}>{busy ? 'Searching…' : 'Show accesses'}</button>
        </div>
        <RangePicker value={range} onChange={setRange} />
      </form>
      {error && <p role="alert" className="banner">{error}</p>}
      {rows && asked && (
        <section className="panel audit-result" aria-labelledby="audit-result-title">
          <h2 id="audit-result-title">Accesses to {asked.issuer} | {asked.patient_id}, {asked.since} – {asked.until}</h2>
          <DataTable label="Patient accesses" file="patient-accesses.csv" header={accessHeader} rows={rows}
            empty="No recorded access in this range." />
        </section>
      )}
      <BreakGlassGrants since={range.from} />
    </main>
  );
}
