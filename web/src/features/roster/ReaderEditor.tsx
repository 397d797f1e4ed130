import { useState } from 'react';
import type { Facility, Licence, Malpractice, Privilege, Reader } from '../../api/types';
import { zones } from './WeekCalendar';

const list = (s: string) => s.split(',').map((x) => x.trim()).filter(Boolean);

// ReaderEditor: one reader's document as a form, with every credential
// the engine's eligibility check needs (licences, privileges, malpractice,
// Medicare enrolment, MQSA, 5 MP). Fields the form does not show (shifts,
// blocks ...) are kept as loaded.
export function ReaderEditor({ reader, isNew, facilities, onSave, onCancel }: {
  reader: Reader; isNew: boolean; facilities: Facility[]; onSave: (r: Reader) => Promise<void>; onCancel: () => void;
}) {
  const [r, setR] = useState<Reader>(reader);
  const [error, setError] = useState('');
  const set = (p: Partial<Reader>) => setR((old) => ({ ...old, ...p }));
  const setLic = (i: number, p: Partial<Licence>) => set({ licenses: r.licenses.map((l, j) => (j === i ? { ...l, ...p } : l)) });
  const setPriv = (i: number, p: Partial<Privilege>) => set({ privileges: r.privileges.map((x, j) => (j === i ? { ...x, ...p } : x)) });
  const mal = r.malpractice ?? [];
  const setMal = (i: number, p: Partial<Malpractice>) => set({ malpractice: mal.map((x, j) => (j === i ? { ...x, ...p } : x)) });
  const medicare = (r.enrolments ?? []).find((e) => e.payer === 'medicare');
  const setMedicare = (on: boolean, expires = medicare?.expires ?? '') => set({
    enrolments: [...(r.enrolments ?? []).filter((e) => e.payer !== 'medicare'), ...(on ? [{ payer: 'medicare', active: true, expires: expires || undefined }] : [])],
  });
  const licStates = r.licenses.map((l) => l.state).filter(Boolean);
  const inYear = new Date(Date.now() + 365 * 86400000).toISOString().slice(0, 10);
  const submit = async (e: React.FormEvent) => {
    e.preventDefault();
    setError('');
    try {
      await onSave(r);
    } catch (err) {
      setError((err as Error).message);
    }
  };
  return (
    <div className="modal-backdrop">
      <form className="modal wide editor" role="dialog" aria-modal="true" aria-label={isNew ? 'Add reader' : `Edit ${r.id}`} onSubmit={(e) => void submit(e)}>
        <h2>{isNew ? 'Add reader' : `Edit ${r.name || r.id}`}</h2>
        <div className="form-grid">
          <label>User name <input value={r.id} disabled={!isNew} required onChange={(e) => set({ id: e.target.value })} /></label>
          <label>Name <input value={r.name} onChange={(e) => set({ name: e.target.value })} /></label>
          <label>Time zone
            <select value={r.time_zone} onChange={(e) => set({ time_zone: e.target.value })}>
              {[...new Set([r.time_zone, ...zones])].filter(Boolean).map((z) => <option key={z}>{z}</option>)}
            </select>
          </label>
          <label>Location
            <select value={r.location.country === 'US' ? 'US' : 'offshore'} aria-label="Location"
              onChange={(e) => set({ location: e.target.value === 'US' ? { country: 'US', state: r.location.state } : { country: r.location.country === 'US' ? 'IN' : r.location.country } })}>
              <option value="US">In the US</option><option value="offshore">Offshore</option>
            </select>
          </label>
          {r.location.country === 'US'
            ? <label>State (where they read) <input value={r.location.state ?? ''} maxLength={2} onChange={(e) => set({ location: { country: 'US', state: e.target.value.toUpperCase() } })} /></label>
            : <label>Country (ISO code) <input value={r.location.country} maxLength={2} onChange={(e) => set({ location: { country: e.target.value.toUpperCase() } })} /></label>}
          <label>Subspecialties <input value={(r.subspecialties ?? []).join(', ')} placeholder="neuro, body, msk" onChange={(e) => set({ subspecialties: list(e.target.value) })} /></label>
          <label>Modalities <input value={r.modalities.join(', ')} onChange={(e) => set({ modalities: list(e.target.value.toUpperCase()) })} /></label>
          <label>RVU target per hour <input type="number" step="0.5" min="0" value={r.rvu_target_per_hour} onChange={(e) => set({ rvu_target_per_hour: Number(e.target.value) })} /></label>
          <label className="check"><input type="checkbox" checked={r.workstation === '5MP'} onChange={(e) => set({ workstation: e.target.checked ? '5MP' : '3MP' })} /> 5 MP mammography workstation</label>
          <label className="check"><input type="checkbox" checked={r.mqsa?.qualified ?? false} onChange={(e) => set({ mqsa: { ...r.mqsa, qualified: e.target.checked } })} /> MQSA qualified</label>
        </div>
        <fieldset>
          <legend>Licences</legend>
          <table className="table compact" aria-label="Licences">
            <thead><tr><th>State</th><th>Number</th><th>Status</th><th>Expires</th><th>IMLC</th><th /></tr></thead>
            <tbody>
              {r.licenses.map((l, i) => (
                <tr key={i}>
                  <td><input value={l.state} maxLength={2} size={3} aria-label="Licence state" onChange={(e) => setLic(i, { state: e.target.value.toUpperCase() })} /></td>
                  <td><input value={l.number} aria-label="Licence number" onChange={(e) => setLic(i, { number: e.target.value })} /></td>
                  <td><select value={l.status} aria-label="Licence status" onChange={(e) => setLic(i, { status: e.target.value as Licence['status'] })}>
                    <option>active</option><option>inactive</option><option>restricted</option></select></td>
                  <td><input type="date" value={l.expires} aria-label="Licence expires" onChange={(e) => setLic(i, { expires: e.target.value })} /></td>
                  <td><input type="checkbox" checked={!!l.imlc} aria-label="IMLC" onChange={(e) => setLic(i, { imlc: e.target.checked })} /></td>
                  <td><button type="button" onClick={() => set({ licenses: r.licenses.filter((_, j) => j !== i) })}>Remove</button></td>
                </tr>
              ))}
            </tbody>
          </table>
          <button type="button" onClick={() => set({ licenses: [...r.licenses, { state: '', number: '', status: 'active', expires: inYear }] })}>Add licence</button>
        </fieldset>
        <fieldset>
          <legend>Privileges</legend>
          <table className="table compact" aria-label="Privileges">
            <thead><tr><th>Facility</th><th>Basis</th><th>Modalities</th><th>Expires</th><th /></tr></thead>
            <tbody>
              {r.privileges.map((p, i) => (
                <tr key={i}>
                  <td><select value={p.facility} aria-label="Privilege facility" onChange={(e) => setPriv(i, { facility: e.target.value })}>
                    <option value="">—</option>
                    {facilities.map((f) => <option key={f.id} value={f.id}>{f.id} · {f.name}</option>)}</select></td>
                  <td><select value={p.basis} aria-label="Privilege basis" onChange={(e) => setPriv(i, { basis: e.target.value as Privilege['basis'] })}>
                    <option value="direct">direct</option><option value="proxy">by proxy</option></select></td>
                  <td><input value={(p.scope.modalities ?? []).join(', ')} placeholder="all" aria-label="Privilege modalities"
                    onChange={(e) => setPriv(i, { scope: { ...p.scope, modalities: list(e.target.value.toUpperCase()) } })} /></td>
                  <td><input type="date" value={p.expires} aria-label="Privilege expires" onChange={(e) => setPriv(i, { expires: e.target.value })} /></td>
                  <td><button type="button" onClick={() => set({ privileges: r.privileges.filter((_, j) => j !== i) })}>Remove</button></td>
                </tr>
              ))}
            </tbody>
          </table>
          <button type="button" onClick={() => set({ privileges: [...r.privileges, { facility: '', scope: {}, basis: 'direct', expires: inYear }] })}>Add privilege</button>
        </fieldset>
        <fieldset>
          <legend>Malpractice and payer enrolment</legend>
          <p className="muted small">The engine assigns a study only when a telemedicine malpractice policy covers the patient&apos;s state; finals for Medicare facilities also need Medicare enrolment.</p>
          <table className="table compact" aria-label="Malpractice policies">
            <thead><tr><th>Carrier</th><th>States covered</th><th>Telemedicine</th><th>Expires</th><th /></tr></thead>
            <tbody>
              {mal.map((m, i) => (
                <tr key={i}>
                  <td><input value={m.carrier} aria-label="Malpractice carrier" onChange={(e) => setMal(i, { carrier: e.target.value })} /></td>
                  <td><input value={m.states.join(', ')} aria-label="Malpractice states" placeholder="OR, WA" onChange={(e) => setMal(i, { states: list(e.target.value.toUpperCase()) })} /></td>
                  <td><input type="checkbox" checked={m.telemedicine} aria-label="Covers telemedicine" onChange={(e) => setMal(i, { telemedicine: e.target.checked })} /></td>
                  <td><input type="date" value={m.expires} aria-label="Malpractice expires" onChange={(e) => setMal(i, { expires: e.target.value })} /></td>
                  <td><button type="button" onClick={() => set({ malpractice: mal.filter((_, j) => j !== i) })}>Remove</button></td>
                </tr>
              ))}
            </tbody>
          </table>
          <button type="button" onClick={() => set({ malpractice: [...mal, { carrier: '', states: licStates, telemedicine: true, expires: inYear }] })}>Add malpractice policy</button>
          <div className="row">
            <label className="check"><input type="checkbox" checked={!!medicare?.active} onChange={(e) => setMedicare(e.target.checked)} /> Enrolled with Medicare</label>
            {medicare?.active && <label>Enrolment expires <input type="date" value={medicare.expires ?? ''} onChange={(e) => setMedicare(true, e.target.value)} /></label>}
          </div>
        </fieldset>
        {error && <p role="alert" className="banner">Not saved: {error}</p>}
        <div className="row">
          <button type="submit" className="primary">Save</button>
          <button type="button" onClick={onCancel}>Cancel</button>
        </div>
      </form>
    </div>
  );
}
