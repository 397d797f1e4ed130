// Prefetch: while a case is open, the reader's other assigned cases (in the
// server's reading order: the case due first first) are fetched into the
// bounded image cache in the background, at the loader's lowest priority,
// so opening the next case does not wait on the network.
import { Enums, imageLoader, imageLoadPoolManager } from '@cornerstonejs/core';
import { tag } from '../../api/client';
import { loadStack, priorsOf, seriesList } from './dicomweb';

const queued = new Set<string>();
const state = { pending: 0, done: 0, studies: [] as string[] };

// prefetchState: what the prefetch has queued and fetched (tests, status).
export function prefetchState() {
  return { ...state, studies: [...state.studies] };
}

export async function prefetchAssigned(current: string, limit = 3): Promise<number> {
  const res = await fetch('/api/worklist', { headers: { Accept: 'application/json', 'X-Session-Passive': '1' }, credentials: 'same-origin' });
  if (!res.ok) return 0;
  const { items = [] } = (await res.json()) as { items?: { study_uid: string }[] };
  let n = 0;
  for (const it of items.filter((i) => i.study_uid !== current && !queued.has(i.study_uid)).slice(0, limit)) {
    queued.add(it.study_uid);
    state.studies.push(it.study_uid);
    // The case's own series, then those of its most relevant prior of the
    // same modality (the one its hanging protocol puts beside it).
    const own = (await seriesList(it.study_uid)).map((s) => ({ study: it.study_uid, s }));
    const mods = new Set(own.map((x) => tag(x.s, '00080060')));
    const [prior] = await priorsOf(it.study_uid).catch(() => []);
    const priorUID = prior ? tag(prior, '0020000D') : '';
    const withPrior = prior && (prior['00080061']?.Value ?? []).some((m) => mods.has(String(m)))
      ? [...own, ...(await seriesList(priorUID)).map((s) => ({ study: priorUID, s }))]
      : own;
    for (const { study, s } of withPrior) {
      const st = await loadStack(study, tag(s, '0020000E'));
      // The middle slice first (where the viewer opens), then outwards.
      const mid = Math.floor(st.imageIds.length / 2);
      const order = st.imageIds.map((_, i) => i).sort((a, b) => Math.abs(a - mid) - Math.abs(b - mid));
      for (const i of order) {
        const imageId = st.imageIds[i];
        state.pending++;
        const settle = () => {
          state.pending--;
          state.done++;
        };
        imageLoadPoolManager.addRequest(() => imageLoader.loadAndCacheImage(imageId).then(settle, settle), Enums.RequestType.Prefetch, { imageId });
        n++;
      }
    }
  }
  return n;
}

// forgetPrefetch lets a new session prefetch again.
export function forgetPrefetch() {
  queued.clear();
  Object.assign(state, { pending: 0, done: 0, studies: [] });
}
