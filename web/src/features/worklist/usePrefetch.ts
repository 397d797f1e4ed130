import { useEffect } from 'react';
import type { WorkItem } from '../../api/types';
import { usePrefs } from '../station/prefs';

// usePrefetch: whenever the reader's assigned list changes (useWorklist
// follows the server's SSE stream), its cases, due first first, and their
// most relevant priors are fetched into the viewer's image cache in the
// background (features/viewer/prefetch.ts), so that opening one does not
// wait on the network.
//
// That needs Cornerstone's image loader, so the prefetch's module loads
// Cornerstone, but only for a reader with assigned cases who has not turned
// prefetch off: a coordinator's board or an empty worklist loads nothing.
// For that reader the cost is small: the worklist already fetches the
// viewer's code in idle time (LazyViewer.tsx preloadViewer), and what the
// prefetch adds is the loader's start (its decoder workers; the WASM codecs
// load on the first frame that needs one). TestViewerInBrowser logs it
// (performance measure lightbox:prefetch-init, the start's wall time):
// 15-290 ms over six runs on the shared 2-core machine at load 14-33,
// once a page, against seconds saved on every prefetched opening.
export function usePrefetch(items: WorkItem[]) {
  const { prefs, loaded } = usePrefs();
  const key = items.map((i) => i.study_uid).join('\n');
  const on = loaded && !prefs.prefetch_off;
  useEffect(() => {
    if (!on || !key) return;
    let alive = true;
    // A burst of list changes (SSE) settles before the work starts.
    const t = setTimeout(() => {
      // Marks for the browser test, which prints them should a prefetch
      // never start (what it waited on: the list, the chunk, the start).
      performance.mark('lightbox:prefetch-scheduled');
      void import('../viewer/background')
        .then((m) => (alive ? m.prefetchInBackground(key.split('\n')) : 0))
        // Said in the console (no patient data in it): a prefetch that never
        // starts otherwise leaves no trace (the browser test logs it).
        .catch((e) => console.error('lightbox: prefetch could not start:', e instanceof Error ? e.message : e));
    }, 300);
    return () => {
      alive = false;
      clearTimeout(t);
    };
  }, [key, on]);
}
