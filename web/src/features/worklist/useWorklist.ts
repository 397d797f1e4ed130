import { useCallback, useEffect, useRef, useState } from 'react';
import { api, parseChange } from '../../api/client';
import type { Change, Facility, WorkItem } from '../../api/types';

export interface Live {
  items: WorkItem[];
  facilities: Record<string, Facility>;
  connected: boolean;
  loaded: boolean;
  refresh: () => void;
  notices: Change[]; // discrepancy notices for a prelim reader, newest first
  dismiss: (c: Change) => void;
}

// useWorklist keeps the reader's worklist (or the board) in step with the
// server: it refetches whenever the SSE stream reports a change, and after a
// dropped stream reconnects (EventSource retries on its own; a resync
// follows the reconnection, since changes during the gap were not seen).
export function useWorklist(board: boolean): Live {
  const [items, setItems] = useState<WorkItem[]>([]);
  const [facilities, setFacilities] = useState<Record<string, Facility>>({});
  const [connected, setConnected] = useState(true);
  const [loaded, setLoaded] = useState(false);
  const [notices, setNotices] = useState<Change[]>([]);
  const timer = useRef<ReturnType<typeof setTimeout> | undefined>(undefined);

  const fetchNow = useCallback(() => {
    api
      .worklist(board)
      .then((r) => {
        setItems(r.items);
        setLoaded(true);
      })
      .catch(() => {});
  }, [board]);
  const refresh = useCallback(() => {
    clearTimeout(timer.current);
    timer.current = setTimeout(fetchNow, 100); // a burst of changes, one fetch
  }, [fetchNow]);

  useEffect(() => {
    fetchNow();
    api
      .facilities()
      .then((fs) => setFacilities(Object.fromEntries(fs.map((f) => [f.id, f]))))
      .catch(() => {});
    const es = new EventSource('/api/worklist/events');
    // Every (re)connection resynchronises: changes published before the
    // stream was subscribed (or while it was down) were not seen.
    es.onopen = () => {
      setConnected(true);
      fetchNow();
    };
    es.onerror = () => setConnected(false);
    es.addEventListener('change', (e) => {
      const c = parseChange((e as MessageEvent).data);
      if (!c) return;
      if (c.kind === 'discrepancy') setNotices((ns) => [c, ...ns]);
      refresh();
    });
    // A stream that stays down (server restarted, network gone) is retried
    // by EventSource; polling bridges the gap so the list never goes stale.
    const poll = setInterval(() => {
      if (es.readyState !== EventSource.OPEN) fetchNow();
    }, 10000);
    return () => {
      es.close();
      clearInterval(poll);
      clearTimeout(timer.current);
    };
  }, [fetchNow, refresh]);

  const dismiss = useCallback((c: Change) => setNotices((ns) => ns.filter((n) => n !== c)), []);
  return { items, facilities, connected, loaded, refresh, notices, dismiss };
}

export type Presence = 'available' | 'reading' | 'away';

// usePresence sends the heartbeat the engine expects (every 15 s, or what
// the server asks); "away" keeps the reader logged on but stops new cases.
export function usePresence(presence: Presence, enabled: boolean, onFirstBeat?: () => void) {
  const cb = useRef(onFirstBeat);
  const fired = useRef(false);
  useEffect(() => {
    cb.current = onFirstBeat;
  });
  useEffect(() => {
    if (!enabled) return;
    let t: ReturnType<typeof setTimeout>;
    let stopped = false;
    const beat = () => {
      api
        .heartbeat(presence === 'away')
        .then((r) => {
          // Going online makes the engine assign work: look at once.
          if (!fired.current) cb.current?.();
          fired.current = true;
          if (!stopped) t = setTimeout(beat, (r.next_heartbeat_seconds || 15) * 1000);
        })
        .catch(() => {
          if (!stopped) t = setTimeout(beat, 5000);
        });
    };
    beat();
    return () => {
      stopped = true;
      clearTimeout(t);
    };
  }, [presence, enabled]);
}
