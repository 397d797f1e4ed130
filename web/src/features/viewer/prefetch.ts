// Prefetch: the reader's assigned cases (in the server's reading order: the
// case due first first), each with its most relevant prior, are fetched
// into the bounded image cache in the background, so opening one does not
// wait on the network. The worklist starts it whenever the assigned list
// changes (features/worklist/usePrefetch.ts); an open case keeps it going
// for cases assigned while it is read (Viewer.tsx).
//
// A series whose first prefetched image is native comes in one series
// retrieve (bulk.ts) instead, which holds back while the reader is at the
// keys or the mouse.
//
// It never competes with what the reader looks at: it keeps at most
// `inFlightMax` images in flight, as the loader's lowest priority
// (RequestType.Prefetch), and issues none while any other image request is
// queued or in flight (the open case, its own stack prefetch, thumbnails,
// MPR volumes). It stops when the cache is nine tenths full rather than
// evict, least recently used first, what the reader has looked at.
import { cache, Enums, imageLoader, imageLoadPoolManager, imageRetrievalPoolManager } from '@cornerstonejs/core';
import { tag } from '../../api/client';
import { onClear } from '../../storage';
import { cachePolicy, onCachePolicy } from './cachepolicy';
import { loadStack, priorsOf, seriesList, type Stack } from './dicomweb';
import { bulkable, fetchInBackground, missingOf, quiet } from './bulk';

const inFlightMax = 3; // of Chromium's 6 connections a host: the rest stay free for the open case
const fullAt = 0.9;

interface Job {
  study: string; // the assigned case it belongs to
  imageId: string;
  stack: Stack;
}

let generation = 0; // bumped by forgetPrefetch: a running pump from before stops
let cases: string[] = []; // assigned cases whose images are not listed yet, in reading order
let jobs: Job[] = [];
let inFlight = 0;
let listing = 0; // 1 while a case's images are being listed (its metadata)
let pumping = false;
const queued = new Set<string>();
const tried = new Set<string>(); // series whose first image was prefetched
let assignedNow = new Set<string>();
const state = { done: 0, studies: [] as string[], full: false };

// prefetchState: what the prefetch has queued and fetched (tests, status).
export function prefetchState() {
  return { ...state, pending: cases.length + listing + jobs.length + inFlight, studies: [...state.studies] };
}

// prefetchCases queues the assigned cases (reading order) not queued yet;
// cases no longer assigned leave the queue. Returns how many are new.
export function prefetchCases(assigned: string[]): number {
  assignedNow = new Set(assigned);
  cases = cases.filter((c) => assignedNow.has(c));
  jobs = jobs.filter((j) => assignedNow.has(j.study));
  const fresh = assigned.filter((c) => !queued.has(c));
  for (const c of fresh) {
    queued.add(c);
    if (!state.studies.includes(c)) state.studies.push(c);
  }
  // Reading order for every case still waiting, new or not.
  const order = new Map(assigned.map((c, i) => [c, i]));
  cases = [...cases, ...fresh].sort((a, b) => order.get(a)! - order.get(b)!);
  void pump();
  return fresh.length;
}

// prefetchAssigned queues the caller's assigned cases but the open one.
export async function prefetchAssigned(current: string): Promise<number> {
  const res = await fetch('/api/worklist', { headers: { Accept: 'application/json', 'X-Session-Passive': '1' }, credentials: 'same-origin' });
  if (!res.ok) return 0;
  const { items = [] } = (await res.json()) as { items?: { study_uid: string }[] };
  return prefetchCases(items.map((i) => i.study_uid).filter((u) => u !== current));
}

// imagesOf lists a case's images in the order to fetch them: its own series,
// then those of its most relevant prior of the same modality (the one its
// hanging protocol puts beside it); in each, the middle slice first (where
// the viewer opens), then outwards.
async function imagesOf(study: string): Promise<Job[]> {
  const own = (await seriesList(study)).map((s) => ({ study, s }));
  const mods = new Set(own.map((x) => tag(x.s, '00080060')));
  const [prior] = await priorsOf(study).catch(() => []);
  const priorUID = prior ? tag(prior, '0020000D') : '';
  const all = prior && (prior['00080061']?.Value ?? []).some((m) => mods.has(String(m)))
    ? [...own, ...(await seriesList(priorUID)).map((s) => ({ study: priorUID, s }))]
    : own;
  const out: Job[] = [];
  for (const { study: st, s } of all) {
    const stack = await loadStack(st, tag(s, '0020000E'));
    const { imageIds } = stack;
    const mid = Math.floor(imageIds.length / 2);
    const order = imageIds.map((_, i) => i).sort((a, b) => Math.abs(a - mid) - Math.abs(b - mid));
    out.push(...order.map((i) => ({ study, imageId: imageIds[i], stack })));
  }
  return out;
}

type Pool = typeof imageLoadPoolManager;

// requestsIn: a pool's requests, queued and in flight.
function requestsIn(pm: Pool): number {
  const pool = pm.getRequestPool() as unknown as Record<string, Record<string, unknown[]>>;
  let n = 0;
  for (const byPriority of Object.values(pool)) for (const q of Object.values(byPriority)) n += q.length;
  const running = (pm as unknown as { numRequests: Record<string, number> }).numRequests;
  return n + Object.values(running).reduce((a, b) => a + b, 0);
}

// othersBusy: any image request but the prefetch's own, queued or in flight
// (the prefetch's own go straight to the retrieval pool, at most inFlight).
function othersBusy(): boolean {
  return requestsIn(imageLoadPoolManager) > 0 || requestsIn(imageRetrievalPoolManager) > inFlight;
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

async function pump() {
  if (pumping) return;
  pumping = true;
  const gen = generation;
  try {
    while (gen === generation && cachePolicy().prefetch) {
      if (cache.getCacheSize() >= fullAt * cache.getMaxCacheSize()) {
        // Full: what is left waits for the reader to free some (the
        // cache's bound is the reader's; evicting would drop what was
        // looked at least recently, perhaps the case on screen).
        state.full = true;
        for (const c of [...cases, ...jobs.map((j) => j.study)]) queued.delete(c);
        cases = [];
        jobs = [];
        break;
      }
      if (!jobs.length) {
        const next = cases.shift();
        if (!next) break;
        listing = 1;
        const listed = await imagesOf(next).catch(() => []);
        if (gen !== generation) break; // signed out meanwhile: nothing of that session goes on
        listing = 0;
        jobs = assignedNow.has(next) ? listed : []; // unless it left the list meanwhile
        continue;
      }
      if (inFlight >= inFlightMax || othersBusy()) {
        await sleep(inFlight >= inFlightMax ? 20 : 200);
        continue;
      }
      await quiet();
      if (gen !== generation) break;
      const { imageId, stack } = jobs.shift()!;
      if (cache.getImageLoadObject(imageId)) continue; // the viewer has it already
      inFlight++;
      const settle = (n = 1) => {
        if (gen !== generation) return;
        inFlight--;
        state.done += n;
      };
      const load = imageLoader.loadAndCacheImage(imageId, { priority: 0, requestType: Enums.RequestType.Prefetch });
      const key = `${stack.study}/${stack.series}`;
      if (tried.has(key)) {
        load.then(() => settle(), () => settle());
        continue;
      }
      // A series' first image tells whether the rest can come in one
      // series retrieve.
      tried.add(key);
      const image = await load.catch(() => undefined);
      const before = image && bulkable(image) ? missingOf(stack) : null;
      if (!before?.bulk) {
        settle();
        continue;
      }
      await fetchInBackground(stack).catch(() => {});
      settle(1 + before.missing.length - missingOf(stack).missing.length);
    }
  } finally {
    pumping = false;
  }
}

// forgetPrefetch stops the prefetch and lets a new session start again
// (logout empties the cache with it: cornerstone.ts purgeImages).
export function forgetPrefetch() {
  generation++;
  cases = [];
  jobs = [];
  inFlight = 0;
  listing = 0;
  queued.clear();
  tried.clear();
  assignedNow = new Set();
  Object.assign(state, { done: 0, studies: [], full: false });
}

onClear(forgetPrefetch);
// Turned back on (or the cache made larger): go on where it stopped.
onCachePolicy(() => {
  state.full = false;
  void pump();
});
