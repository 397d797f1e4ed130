import { useEffect, useState } from 'react';
import { actions, conflicts, normalise, type Action } from './keymap';
import { usePrefs } from './prefs';
import { ConnectionCheck } from './ConnectionCheck';
import { DisplayCheck } from './DisplayCheck';
import { ImageCache } from './ImageCache';
import { RenderPath } from './RenderPath';

// StationPage: the reader's key map (dictation microphone buttons arrive as
// keys), saved on the server.
export function StationPage() {
  const { prefs, loaded, keys, save } = usePrefs();
  const [draft, setDraft] = useState<Record<string, string>>({ ...keys });
  const [status, setStatus] = useState('');
  useEffect(() => setDraft({ ...keys }), [keys]); // the saved map arrives after the first render
  const clash = conflicts(Object.fromEntries(Object.entries(draft).map(([a, k]) => [a, normalise(k)])) as Record<Action, string>);
  return (
    <main aria-labelledby="station-title" className="station">
      <h1 id="station-title">My station</h1>
      <DisplayCheck />
      <ConnectionCheck />
      <ImageCache />
      <RenderPath />
      <section className="panel">
        <h2>Keys</h2>
        <p className="muted">Press the key (or microphone button) in a field to bind it.</p>
        <table className="table">
          <tbody>
            {(Object.keys(actions) as Action[]).map((a) => (
              <tr key={a}>
                <th scope="row">{actions[a]}</th>
                <td>
                  <input aria-label={`Key for ${actions[a]}`} value={draft[a] ?? ''} readOnly
                    onKeyDown={(e) => {
                      if (e.key === 'Tab') return;
                      e.preventDefault();
                      e.stopPropagation();
                      const c = normalise([e.ctrlKey && 'Ctrl', e.altKey && 'Alt', e.shiftKey && 'Shift', e.metaKey && 'Meta', e.key].filter(Boolean).join('+'));
                      if (!['Ctrl', 'Alt', 'Shift', 'Meta', 'Control'].includes(e.key)) setDraft({ ...draft, [a]: c });
                    }} />
                </td>
              </tr>
            ))}
          </tbody>
        </table>
        {clash.length > 0 && <p role="alert" className="error">Bound twice: {clash.join(', ')}</p>}
        <div className="row">
          <button className="primary" disabled={!loaded || clash.length > 0}
            onClick={() => save({ ...prefs, keys: draft }).then(() => setStatus('Saved.'), (e) => setStatus(String(e.message ?? e)))}>
            Save keys
          </button>
          <span role="status">{status}</span>
        </div>
        <label>
          Eye-break reminder every{' '}
          <input type="number" min={0} max={240} disabled={!loaded} value={prefs.break_minutes} aria-label="Break reminder minutes"
            onChange={(e) => void save({ ...prefs, break_minutes: Number(e.target.value) })} /> minutes (0 = off)
        </label>
      </section>
    </main>
  );
}
