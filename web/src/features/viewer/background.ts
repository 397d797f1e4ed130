// The worklist's entry to the prefetch, loaded only when a reader has
// assigned cases to prefetch (features/worklist/usePrefetch.ts): it brings
// up Cornerstone (its image loader and decoder workers) without a viewport.
import { initCornerstone } from './cornerstone';
import { prefetchCases } from './prefetch';

let started = false;

export async function prefetchInBackground(assigned: string[]): Promise<number> {
  // What bringing the loader up costs the worklist (the browser test logs it).
  const t0 = performance.now();
  await initCornerstone();
  if (!started) performance.measure('lightbox:prefetch-init', { start: t0 });
  started = true;
  return prefetchCases(assigned);
}
