import { useEffect, useState } from 'react';
import { api } from '../../api/client';
import type { CriticalBoardItem } from '../../api/types';
import { navigate, useNow } from '../../router';
import { countdown } from '../worklist/time';

// OpenLoops keeps the reader's open critical results in view until each
// is closed, whether or not the study is still on their worklist.
export function OpenLoops() {
  const [loops, setLoops] = useState<CriticalBoardItem[]>([]);
  const now = useNow(1000);
  useEffect(() => {
    const load = () => api.criticalBoard().then((b) => setLoops(b.items.filter((r) => r.state !== 'closed'))).catch(() => {});
    load();
    const t = setInterval(load, 20000);
    return () => clearInterval(t);
  }, []);
  if (loops.length === 0) return null;
  return (
    <section className="loops" aria-label="Open critical results">
      <strong>Open critical results</strong>
      <ul>
        {loops.map((r) => {
          const c = countdown(r.deadline_at, now);
          return (
            <li key={r.id}>
              <a href={`/case/${encodeURIComponent(r.study_uid)}`} onClick={(e) => { e.preventDefault(); navigate(`/case/${encodeURIComponent(r.study_uid)}`); }}>
                Category {r.category}: {r.finding}
              </a>{' '}
              <span className="badge">{r.state}</span> {c && <span className={`mono due-${c.risk}`}>{c.text}</span>}
            </li>
          );
        })}
      </ul>
    </section>
  );
}
