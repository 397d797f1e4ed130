import { useCallback, useEffect, useState } from 'react';
import { api, ApiError } from '../../api/client';
import type { Facility, Reader } from '../../api/types';
import { ReaderEditor } from './ReaderEditor';

// nextExpiry is the earliest licence or privilege expiry (YYYY-MM-DD).
export function nextExpiry(r: Reader): string {
  const all = [...r.licenses.map((l) => l.expires), ...r.privileges.map((p) => p.expires)].filter(Boolean).sort();
  return all[0] ?? '';
}

export function blankReader(): Reader {
  return { id: '', name: '', modalities: ['CT', 'MR', 'CR', 'US'], mqsa: { qualified: false, last_24_months: 0 }, workstation: '3MP',
    location: { country: 'US', state: '' }, time_zone: 'America/New_York', rvu_target_per_hour: 8, licenses: [], privileges: [] };
}

// ReadersPanel: every reader with their credentials at a glance; staff add
// and edit readers (licences, privileges, subspecialties, MQSA, 5 MP,
// location, RVU target) and export them.
export function ReadersPanel({ onChanged }: { onChanged: () => void }) {
  const [readers, setReaders] = useState<Reader[]>([]);
  const [facilities, setFacilities] = useState<Facility[]>([]);
  const [editing, setEditing] = useState<Reader | null>(null);
  const [isNew, setIsNew] = useState(false);
  const [error, setError] = useState('');
  const load = useCallback(() => {
    api.readers().then(setReaders, (e: Error) => setError(e.message));
    api.facilities().then(setFacilities, () => {});
  }, []);
  useEffect(load, [load]);
  const save = async (r: Reader) => {
    await api.saveReader(r);
    setEditing(null);
    load();
    onChanged();
  };
  return (
    <section className="panel" aria-labelledby="readers-title">
      <div className="toolbar">
        <h2 id="readers-title">Readers</h2>
        <span className="count">{readers.length}</span>
        <span className="spacer" />
        <a className="button" href={api.readersExportURL('readers-csv')} download="readers.csv">Export readers CSV</a>
        <a className="button" href={api.readersExportURL('credentials-csv')} download="credentials.csv">Export credentials CSV</a>
        <button type="button" className="primary" onClick={() => { setIsNew(true); setEditing(blankReader()); }}>Add reader</button>
      </div>
      {error && <p role="alert">{error}</p>}
      <div className="scroll short">
        <table className="table" aria-label="Readers">
          <thead>
            <tr><th>Reader</th><th>Location</th><th>Subspecialties</th><th>Licences</th><th>Privileges</th><th>MQSA</th><th>Display</th><th>RVU/h target</th><th>Next expiry</th><th /></tr>
          </thead>
          <tbody>
            {readers.map((r) => (
              <tr key={r.id}>
                <td><b>{r.name || r.id}</b> <span className="muted small">{r.id}</span></td>
                <td>{r.location.country === 'US' ? `US ${r.location.state ?? ''}` : `offshore (${r.location.country})`}<div className="muted small">{r.time_zone}</div></td>
                <td>{(r.subspecialties ?? []).join(', ') || <span className="muted">general</span>}</td>
                <td title={r.licenses.map((l) => `${l.state} ${l.number} until ${l.expires}`).join('\n')}>{r.licenses.map((l) => l.state).join(' ')}</td>
                <td>{r.privileges.length}</td>
                <td>{r.mqsa?.qualified ? 'yes' : '—'}</td>
                <td>{r.workstation || '—'}</td>
                <td className="mono">{r.rvu_target_per_hour}</td>
                <td className="mono">{nextExpiry(r)}</td>
                <td><button type="button" onClick={() => { setIsNew(false); setEditing(structuredClone(r)); }} aria-label={`Edit ${r.id}`}>Edit</button></td>
              </tr>
            ))}
          </tbody>
        </table>
      </div>
      {editing && (
        <ReaderEditor reader={editing} isNew={isNew} facilities={facilities} onCancel={() => setEditing(null)}
          onSave={async (r) => {
            try {
              await save(r);
            } catch (e) {
              throw e instanceof ApiError ? e : new Error(String(e));
            }
          }} />
      )}
    </section>
  );
}
