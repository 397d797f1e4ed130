import { useCallback, useEffect, useState } from 'react';
import { api, ApiError } from '../../api/client';
import type { Facility, ImportReport } from '../../api/types';

// FacilitiesPanel: the facilities in scope; administrators export them as
// CSV and import a CSV, seeing each rejected row with its reason.
export function FacilitiesPanel({ admin, onChanged }: { admin: boolean; onChanged: () => void }) {
  const [facilities, setFacilities] = useState<Facility[]>([]);
  const [error, setError] = useState('');
  const load = useCallback(() => {
    api.facilities().then(setFacilities, (e: Error) => setError(e.message));
  }, []);
  useEffect(load, [load]);
  return (
    <section aria-labelledby="fac-title" className="panel">
      <div className="toolbar">
        <h2 id="fac-title">Facilities</h2>
        <span className="count">{facilities.length}</span>
        {admin && <a className="button" href={api.facilitiesExportURL('csv')} download="facilities.csv">Export CSV</a>}
        {admin && <ImportForm onDone={() => { load(); onChanged(); }} />}
      </div>
      {error && <p role="alert">{error}</p>}
      <div className="scroll">
        <table className="table" aria-label="Facilities">
          <thead><tr><th>ID</th><th>Name</th><th>State</th><th>Time zone</th></tr></thead>
          <tbody>
            {facilities.map((f) => (
              <tr key={f.id}><td>{f.id}</td><td>{f.name}</td><td>{f.state}</td><td>{f.time_zone}</td></tr>
            ))}
          </tbody>
        </table>
      </div>
    </section>
  );
}

function ImportForm({ onDone }: { onDone: () => void }) {
  const [report, setReport] = useState<ImportReport | null>(null);
  const [error, setError] = useState('');
  const [busy, setBusy] = useState(false);
  const upload = async (file: File) => {
    setBusy(true);
    setError('');
    setReport(null);
    try {
      setReport(await api.importFacilities(await file.text()));
      onDone();
    } catch (e) {
      setError(e instanceof ApiError || e instanceof Error ? e.message : String(e));
    } finally {
      setBusy(false);
    }
  };
  return (
    <>
      <label>
        Import CSV
        <input type="file" accept=".csv,text/csv" disabled={busy} data-testid="import-file"
          onChange={(e) => { const f = e.target.files?.[0]; e.target.value = ''; if (f) void upload(f); }} />
      </label>
      {error && <p role="alert" className="banner">Import refused: {error}</p>}
      {report && <ImportResult report={report} />}
    </>
  );
}

function ImportResult({ report }: { report: ImportReport }) {
  return (
    <div role="status" className="import-report" data-testid="import-report">
      <p>{report.accepted} of {report.rows} rows accepted · {report.rejected.length} rejected</p>
      {report.rejected.length > 0 && (
        <table className="table" aria-label="Rejected rows">
          <thead><tr><th>Line</th><th>ID</th><th>Field</th><th>Reason</th></tr></thead>
          <tbody>
            {report.rejected.map((r) => (
              <tr key={`${r.row}/${r.field ?? ''}`}><td>{r.row}</td><td>{r.id}</td><td>{r.field}</td><td>{r.reason}</td></tr>
            ))}
          </tbody>
        </table>
      )}
    </div>
  );
}
