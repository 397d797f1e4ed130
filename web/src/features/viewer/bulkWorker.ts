// The series retrieve of bulk.ts, read off the main thread: this worker
// fetches the multipart response, splits it into instances and finds each
// one's pixel data. Native greyscale frames the page described (specs) are
// made ready for the image cache (native.ts) by helpers, more instances of
// this script the page started and connected by message ports, which
// post the frames to the page (transferred) and the instance's buffer back
// here for the next part: reading and making ready then run side by side
// on two cores. Any other instance's buffer is handed over whole
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
export type BulkMessage = { part: BulkPart } | { built: { sop: string; bytes: number; ts: string; frames: NativeFrame[] } } | { done: number } | { error: string };
export type BulkRequest =
  | { url: string; accept: string; credits?: number; specs?: BulkSpecs; helpers?: MessagePort[] }
  | { credit: number }
  | { helper: MessagePort };
// What goes to a helper: an instance to make ready.
type HelperJob = { sop: string; data: Uint8Array<ArrayBuffer>; px: Pixels; specs: FrameSpec[] };
type Pixels = { ts: string; offset: number; length: number };

// The typed array the last frame came out as (a series' frames mostly
// share one).
let lastType: PixelType | undefined;

// fits tells whether an instance's pixel data holds the frames its specs
// describe.
function fits(px: { offset: number; length: number }, specs: FrameSpec[]): boolean {
  return !!specs.length && specs.every((s) => s.pixels * (s.bits / 8) * specs.length === px.length);
}

// built makes the frames of an instance whose pixel data fits its specs.
function built(data: Uint8Array<ArrayBuffer>, px: { offset: number; length: number }, specs: FrameSpec[]): NativeFrame[] {
  const size = px.length / specs.length;
  return specs.map((s, f) => {
    const { type, ...frame } = nativeFrame(data.subarray(px.offset + f * size, px.offset + (f + 1) * size), s, lastType);
    lastType = type;
    return frame;
  });
}

// Parts' buffers once their frames are made (they are copies): the next
// parts are read into them rather than into new ones.
const spares: ArrayBuffer[] = [];
const alloc = (n: number) => {
  const b = spares.pop();
  return b && b.byteLength >= n ? new Uint8Array(b, 0, n) : new Uint8Array(n);
};

// helper makes ready what the reading worker sends over port.
function helper(port: MessagePort) {
  port.onmessage = (e: MessageEvent<HelperJob>) => {
    const { sop, data, px, specs } = e.data;
    const frames = built(data, px, specs);
    self.postMessage({ built: { sop, bytes: data.length, ts: px.ts, frames } } satisfies BulkMessage, { transfer: frames.map((f) => f.pixels.buffer) });
    port.postMessage(data.buffer, [data.buffer]);
  };
}

let credits = 0;
let wake: (() => void) | null = null;

self.onmessage = (e: MessageEvent<BulkRequest>) => {
  const m = e.data;
  if ('helper' in m) {
    helper(m.helper);
    return;
  }
  if ('credit' in m) {
    credits += m.credit;
    wake?.();
    wake = null;
    return;
  }
  const { url, accept, specs = {}, helpers = [] } = m;
  credits = m.credits ?? 64;
  for (const h of helpers) h.onmessage = (e: MessageEvent<ArrayBuffer>) => void (spares.length < 8 && spares.push(e.data));
  const post = (m: BulkMessage, transfer: Transferable[] = []) => self.postMessage(m, { transfer });
  let parts = 0;
  (async () => {
    const res = await fetch(url, { headers: { Accept: accept }, credentials: 'same-origin' });
    if (!res.ok) throw new Error(`series retrieve: HTTP ${res.status}`);
    await streamParts(res, async (h, data) => {
      while (credits <= 0) await new Promise<void>((ok) => (wake = ok));
      credits--;
      parts++;
      const sop = decodeURIComponent((h['content-location'] ?? '').split('/').pop() ?? '');
      const px = nativePixels(data);
      const sp = specs[sop];
      if (px && sp && fits(px, sp)) {
        if (helpers.length) {
          helpers[parts % helpers.length].postMessage({ sop, data, px, specs: sp } satisfies HelperJob, [data.buffer]);
        } else {
          const frames = built(data, px, sp);
          post({ built: { sop, bytes: data.length, ts: px.ts, frames } }, frames.map((f) => f.pixels.buffer));
          spares.push(data.buffer);
        }
        return;
      }
      post({ part: { sop, data, ts: px?.ts ?? '', offset: px?.offset ?? 0, length: px?.length ?? 0 } }, [data.buffer]);
    }, undefined, alloc);
    post({ done: parts });
  })().catch((err) => post({ error: String(err) }));
};
