// The series retrieve of bulk.ts, read off the main thread: this worker
// fetches the multipart response, splits it into instances and finds each
// one's pixel data. Native greyscale frames the page described (specs) are
// made ready for the image cache here (native.ts) and their pixels
// transferred; any other instance's buffer is handed over whole
// (transferred, not copied) for the image loader to decode. The page
// returns a credit per instance once it has taken it, so no more than
// `credits` instances wait in the page at once.
import { nativePixels, streamParts } from './frames';
import { nativeFrame, type FrameSpec, type NativeFrame, type PixelType } from './native';

export interface BulkPart {
  sop: string;
  data: Uint8Array;
  ts: string; // '' when the pixel data is not native
  offset: number;
  length: number;
}
// BulkSpecs: by SOP Instance UID, its frames' specs in frame order.
export type BulkSpecs = Record<string, FrameSpec[]>;
export type BulkMessage = { part: BulkPart } | { built: { sop: string; bytes: number; frames: NativeFrame[] } } | { done: true } | { error: string };
export type BulkRequest = { url: string; accept: string; credits?: number; specs?: BulkSpecs } | { credit: number };

// The typed array the last frame came out as (a series' frames mostly
// share one).
let lastType: PixelType | undefined;

// built makes the frames of an instance whose pixel data is native and
// matches its specs; null otherwise (the loader decodes it).
function built(data: Uint8Array<ArrayBuffer>, px: { offset: number; length: number } | null, specs?: FrameSpec[]): NativeFrame[] | null {
  if (!px || !specs?.length) return null;
  const size = px.length / specs.length;
  if (specs.some((s) => s.pixels * (s.bits / 8) !== size)) return null;
  return specs.map((s, f) => {
    const { type, ...frame } = nativeFrame(data.subarray(px.offset + f * size, px.offset + (f + 1) * size), s, lastType);
    lastType = type;
    return frame;
  });
}

// A part's buffer once its frames are made (they are copies): the next
// part is read into it rather than into a new one.
let spare: ArrayBuffer | null = null;
const alloc = (n: number) => (spare && spare.byteLength >= n ? new Uint8Array(spare, 0, n) : new Uint8Array(n));

let credits = 0;
let wake: (() => void) | null = null;

self.onmessage = (e: MessageEvent<BulkRequest>) => {
  if ('credit' in e.data) {
    credits += e.data.credit;
    wake?.();
    wake = null;
    return;
  }
  const { url, accept, specs = {} } = e.data;
  credits = e.data.credits ?? 64;
  const post = (m: BulkMessage, transfer: Transferable[] = []) => self.postMessage(m, { transfer });
  (async () => {
    const res = await fetch(url, { headers: { Accept: accept }, credentials: 'same-origin' });
    if (!res.ok) throw new Error(`series retrieve: HTTP ${res.status}`);
    await streamParts(res, async (h, data) => {
      while (credits <= 0) await new Promise<void>((ok) => (wake = ok));
      credits--;
      const sop = decodeURIComponent((h['content-location'] ?? '').split('/').pop() ?? '');
      const px = nativePixels(data);
      const frames = built(data, px, specs[sop]);
      if (frames) {
        post({ built: { sop, bytes: data.length, frames } }, frames.map((f) => f.pixels.buffer));
        spare = data.buffer;
        return;
      }
      if (data.buffer === spare) spare = null; // transferred: gone from here
      post({ part: { sop, data, ts: px?.ts ?? '', offset: px?.offset ?? 0, length: px?.length ?? 0 } }, [data.buffer]);
    }, undefined, alloc);
    post({ done: true });
  })().catch((err) => post({ error: String(err) }));
};
