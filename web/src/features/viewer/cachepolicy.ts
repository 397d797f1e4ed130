// The image cache's bound and the prefetch switch, from the reader's station
// preferences (cache_mb, prefetch_off: internal/station), held to what this
// browser can hold. No Cornerstone here: the station page and the worklist
// read it without loading the viewer; cornerstone.ts and prefetch.ts follow
// it once the viewer's code runs.

export const defaultCacheMB = 4096; // internal/station DefaultCacheMB
export const minCacheMB = 256;
export const maxCacheMB = 64 * 1024;

// What the browser says about its memory: navigator.deviceMemory (GiB,
// rounded down to a power of two and capped at 8 by Chromium, secure
// contexts only) and Chromium's performance.memory.jsHeapSizeLimit.
export interface BrowserMemory {
  deviceGB?: number;
  heapLimitBytes?: number;
}

export function browserMemory(): BrowserMemory {
  const nav = (typeof navigator === 'undefined' ? {} : navigator) as { deviceMemory?: number };
  const perf = (typeof performance === 'undefined' ? {} : performance) as { memory?: { jsHeapSizeLimit?: number } };
  return { deviceGB: nav.deviceMemory || undefined, heapLimitBytes: perf.memory?.jsHeapSizeLimit || undefined };
}

export interface CacheLimit {
  mb: number; // what the cache is held to
  wantedMB: number; // what the reader chose (or the default)
  capMB?: number; // what the browser can hold, when it says
  why?: string; // why it is less than wanted
}

// cacheLimit holds the wanted size to what the browser can hold:
//   - half the device memory it reports, when below 8 GiB (8 is the highest
//     value Chromium reports, so it means "8 GiB or more": no cap from it);
//     decoded pixels beyond that push the station into swapping;
//   - the JS heap limit where it is 2 GiB or less (a 32-bit or constrained
//     renderer); 64-bit renderers keep pixel buffers outside that heap.
export function cacheLimit(wantedMB: number | undefined, mem: BrowserMemory): CacheLimit {
  const wanted = Math.min(maxCacheMB, Math.max(minCacheMB, Math.round(wantedMB || defaultCacheMB)));
  const caps: { mb: number; why: string }[] = [];
  if (mem.deviceGB && mem.deviceGB < 8) {
    caps.push({ mb: (mem.deviceGB * 1024) / 2, why: `this device reports ${mem.deviceGB} GB of memory; the cache takes at most half` });
  }
  if (mem.heapLimitBytes && mem.heapLimitBytes <= 2 ** 31) {
    caps.push({ mb: Math.floor(mem.heapLimitBytes / 2 ** 20), why: `this browser's memory limit is ${(mem.heapLimitBytes / 2 ** 30).toFixed(1)} GB` });
  }
  const cap = caps.sort((a, b) => a.mb - b.mb)[0];
  if (!cap || cap.mb >= wanted) return { mb: wanted, wantedMB: wanted, capMB: cap?.mb };
  return { mb: Math.max(minCacheMB, Math.floor(cap.mb)), wantedMB: wanted, capMB: cap.mb, why: cap.why };
}

export interface CachePolicy {
  bytes: number;
  prefetch: boolean;
}

let policy: CachePolicy = { bytes: cacheLimit(undefined, browserMemory()).mb * 2 ** 20, prefetch: true };
const watchers = new Set<(p: CachePolicy) => void>();

export function cachePolicy(): CachePolicy {
  return policy;
}

// setCachePolicy applies the reader's preferences (the shell calls it when
// they load or change).
export function setCachePolicy(prefs: { cache_mb?: number; prefetch_off?: boolean }) {
  const next = { bytes: cacheLimit(prefs.cache_mb, browserMemory()).mb * 2 ** 20, prefetch: !prefs.prefetch_off };
  if (next.bytes === policy.bytes && next.prefetch === policy.prefetch) return;
  policy = next;
  watchers.forEach((f) => f(policy));
}

// onCachePolicy calls f with the policy now and whenever it changes.
export function onCachePolicy(f: (p: CachePolicy) => void): () => void {
  watchers.add(f);
  f(policy);
  return () => {
    watchers.delete(f);
  };
}
