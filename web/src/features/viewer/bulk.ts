// Filling a stack once its first image shows. A series of native
// (uncompressed) frames comes in one WADO-RS series retrieve (PS3.18
// 10.4.1, instances as stored, Content-Length per part): one request
// instead of one per frame through the browser's six connections per host,
// and no per-frame compression on the server (the frame responses are
// gzipped; on a LAN or loopback that costs more than it saves). Each
// instance's pixel data is handed to the loader's compressed-frame registry
// (frames.ts) and decoded into the image cache as it arrives; the response
// is read and split in a worker (bulkWorker.ts), off the page's thread,
// which also renders and decodes. Compressed
// series, and stacks mostly loaded already (prefetched), take Cornerstone's
// stack prefetch: frame requests from the slice on display outwards.
import { cache, imageLoader, type Types } from '@cornerstonejs/core';
import * as tools from '@cornerstonejs/tools';
import dicomImageLoader from '@cornerstonejs/dicom-image-loader';
import type { DicomJSON } from '../../api/types';
import { tag } from '../../api/client';
import type { Stack } from './dicomweb';
import type { BulkMessage } from './bulkWorker';
import { holdFrame } from './frames';
import { rewriteFor } from './predecode';

const metaOf = (imageId?: string) => (imageId ? (dicomImageLoader.wadors.metaDataManager.get(imageId) as DicomJSON | undefined) : undefined);

const nativeSyntaxes = ['1.2.840.10008.1.2', '1.2.840.10008.1.2.1'];
// Fewer missing images than this are not worth a whole series retrieve.
const minBulk = 16;
// Instances waiting to be decoded before the stream waits (the rest stays
// in TCP buffers on the server side rather than in the page).
const maxDecoding = 24;

let received = 0;

// bulkBytes: the bytes of the instances series retrieves have brought (the
// worker's requests are not the page's: bench/viewer adds these).
export function bulkBytes() {
  return received;
}

const streams = new Map<string, AbortController & { done?: Promise<void> }>();

// fillStack loads the rest of a stack shown in vp.
export function fillStack(vp: Types.IStackViewport, s: Stack, narrowed: boolean) {
  const missing = s.imageIds.filter((id) => !cache.getImageLoadObject(id));
  const shown = vp.getCornerstoneImage() as (Types.IImage & { transferSyntaxUID?: string }) | undefined;
  // Frames predecode.ts rewrites (1-bit, YBR_FULL_422) need the loader's
  // request hook, which the series retrieve bypasses.
  const native = nativeSyntaxes.includes(shown?.transferSyntaxUID ?? '') && !rewriteFor(metaOf(shown?.imageId));
  const prefetch = () => tools.utilities.stackPrefetch.enable(vp.element);
  if (narrowed || !native || missing.length < minBulk) {
    prefetch();
    return;
  }
  streamSeries(s, new Set(missing)).catch((e) => {
    console.warn('viewer: series retrieve failed, frames one by one:', String(e));
    if (vp.element?.isConnected) prefetch();
  });
}

// streamsDone resolves once no series retrieve is under way (the prefetch
// of the next cases waits for the open one).
export async function streamsDone() {
  while (streams.size) await Promise.allSettled([...streams.values()].map((c) => c.done));
}

// stopStreams ends the series retrieves under way (logout).
export function stopStreams() {
  streams.forEach((c) => c.abort());
  streams.clear();
}

async function streamSeries(s: Stack, want: Set<string>) {
  const key = `${s.study}/${s.series}`;
  if (streams.has(key)) return;
  const ac: AbortController & { done?: Promise<void> } = new AbortController();
  streams.set(key, ac);
  ac.done = fetchSeries(s, want, ac).finally(() => streams.delete(key));
  return ac.done;
}

// fetchSeries runs the series retrieve in bulkWorker.ts and decodes each
// instance it hands over into the cache.
function fetchSeries(s: Stack, want: Set<string>, ac: AbortController): Promise<void> {
  const bySop = new Map<string, string[]>();
  s.imageIds.forEach((id, i) => {
    const sop = tag(s.instances[i], '00080018');
    bySop.set(sop, [...(bySop.get(sop) ?? []), id]);
  });
  const w = new Worker(new URL('./bulkWorker.ts', import.meta.url), { type: 'module' });
  return new Promise<void>((ok, fail) => {
    let decoding = 0;
    let ended = false;
    const finish = () => {
      if (ended && decoding === 0) {
        w.terminate();
        ok();
      }
    };
    ac.signal.addEventListener('abort', () => {
      w.terminate();
      ok();
    });
    w.onerror = (e) => {
      w.terminate();
      fail(new Error(e.message || 'series retrieve worker failed'));
    };
    w.onmessage = (e: MessageEvent<BulkMessage>) => {
      const m = e.data;
      if ('error' in m) {
        w.terminate();
        fail(new Error(m.error));
        return;
      }
      if ('done' in m) {
        ended = true;
        finish();
        return;
      }
      const { sop, data, ts, offset, length } = m.part;
      received += data.length;
      const ids = bySop.get(sop) ?? [];
      const size = length / ids.length;
      const loads: Promise<unknown>[] = [];
      ids.forEach((id, f) => {
        if (!want.has(id) || cache.getImageLoadObject(id)) return;
        // Frames of a multi-frame instance follow each other (PS3.5 8.1.1).
        if (ts && Number.isInteger(size)) {
          const at = offset + f * size;
          holdFrame(id, { pixelData: ids.length === 1 ? data.subarray(at, at + size) : data.slice(at, at + size), transferSyntaxUid: ts });
        }
        // Without held bytes (a compressed instance) the loader asks for
        // the frame itself.
        loads.push(imageLoader.loadAndCacheImage(id).catch(() => {}));
      });
      decoding++;
      void Promise.all(loads).then(() => {
        decoding--;
        w.postMessage({ credit: 1 });
        finish();
      });
    };
    w.postMessage({
      url: `${location.origin}/dicomweb/studies/${encodeURIComponent(s.study)}/series/${encodeURIComponent(s.series)}`,
      accept: 'multipart/related; type="application/dicom"; transfer-syntax=*',
      credits: maxDecoding,
    });
  });
}
