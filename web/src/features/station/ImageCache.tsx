import { useEffect, useState } from 'react';
import { browserMemory, cacheLimit, defaultCacheMB, maxCacheMB, minCacheMB } from '../viewer/cachepolicy';
import { usePrefs } from './prefs';

const gb = (mb: number) => `${(mb / 1024).toFixed(mb % 1024 ? 2 : 0)} GB`;

// ImageCache: the reader's bound on the viewer's image cache (assigned cases
// are fetched into it in the background; least recently used images leave
// first; signing out empties it) and the prefetch switch, saved with the
// station preferences. What this browser can hold is said beside it.
export function ImageCache() {
  const { prefs, loaded, save } = usePrefs();
  const saved = prefs.cache_mb || defaultCacheMB;
  const [draft, setDraft] = useState(String(saved / 1024));
  const [status, setStatus] = useState('');
  useEffect(() => setDraft(String(saved / 1024)), [saved]);
  const limit = cacheLimit(saved, browserMemory());
  const store = (p: typeof prefs) => save(p).then(() => setStatus('Saved.'), (e) => setStatus(String(e.message ?? e)));
  const wanted = Math.round(Number(draft) * 1024);
  const valid = wanted >= minCacheMB && wanted <= maxCacheMB;
  return (
    <section className="panel" aria-labelledby="cache-title" data-testid="image-cache">
      <h2 id="cache-title">Image cache</h2>
      <p className="muted">
        Your assigned cases and their priors are fetched into this browser in the background, due first first, so they open
        without waiting. Least recently used images leave first; signing out empties it.
      </p>
      <div className="row">
        <label>
          Size{' '}
          <input type="number" min={minCacheMB / 1024} max={maxCacheMB / 1024} step={0.25} value={draft} aria-label="Image cache size in GB"
            onChange={(e) => setDraft(e.target.value)} /> GB (default {gb(defaultCacheMB)})
        </label>
        <button disabled={!loaded || !valid || wanted === saved} onClick={() => void store({ ...prefs, cache_mb: wanted === defaultCacheMB ? 0 : wanted })}>
          Save size
        </button>
        <span role="status">{status}</span>
      </div>
      <p data-testid="cache-effective" data-mb={limit.mb}>
        {limit.why
          ? `Held to ${gb(limit.mb)}: ${limit.why}.`
          : `This browser can hold it${limit.capMB ? ` (up to ${gb(limit.capMB)})` : ''}: ${gb(limit.mb)}.`}
      </p>
      <label>
        <input type="checkbox" disabled={!loaded} checked={!prefs.prefetch_off} onChange={(e) => void store({ ...prefs, prefetch_off: !e.target.checked })} />{' '}
        Fetch my assigned cases in the background
      </label>
    </section>
  );
}
