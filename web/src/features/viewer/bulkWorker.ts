// The series retrieve of bulk.ts, read off the main thread: this worker
// fetches the multipart response, splits it into instances and finds each
// one's pixel data (bulkread.ts). The pixel data of native greyscale instances
// the page described (specs) is read straight into a buffer of its own,
// made ready for the image cache in place (native.ts) and transferred to
// the page: the image keeps the buffer the network's bytes were read into.
// Any other instance is handed over whole (transferred, not copied) for
// the image loader to decode. The page returns a credit per instance once
// it has taken it, so no more than `credits` instances wait in the page at
// once.
import { boundaryOf } from './frames';
import { nativePixels, PartReader, pixelsAt, type Pixels } from './bulkread';
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
export interface BulkBuilt {
  sop: string;
  bytes: number;
  ts: string;
  frames: NativeFrame[];
}
export type BulkMessage = { part: BulkPart } | { built: BulkBuilt[] } | { done: number } | { error: string };
export type BulkRequest = { url: string; accept: string; credits?: number; specs?: BulkSpecs } | { credit: number };
// An instance's pixel data (all of its buffer) to make ready; bytes is the
// instance's size on the wire.
type Job = { sop: string; pixels: Uint8Array<ArrayBuffer>; ts: string; bytes: number; specs: FrameSpec[] };

// The typed array the last frame came out as (a series' frames mostly
// share one).
let lastType: PixelType | undefined;

// fits tells whether an instance's pixel data holds the frames its specs
// describe.
function fits(px: { length: number }, specs: FrameSpec[]): boolean {
  return !!specs.length && specs.every((s) => s.pixels * (s.bits / 8) * specs.length === px.length);
}

// built makes the frames of an instance from its pixel data, which it owns:
// a single frame is made in the pixel data's own buffer where it can be.
function built(pixels: Uint8Array<ArrayBuffer>, specs: FrameSpec[]): NativeFrame[] {
  const size = pixels.length / specs.length;
  return specs.map((s, f) => {
    const { type, ...frame } = nativeFrame(pixels.subarray(f * size, (f + 1) * size), s, lastType, specs.length === 1);
    lastType = type;
    return frame;
  });
}

// Instances made ready wait here to go to the page several in one message
// (at most batchMax), or alone when nothing more is ready by the time this
// worker's thread is free: a message and its handling on the page cost
// about as much for one image as for eight (bench/viewer).
const batch: BulkBuilt[] = [];
const batchMax = 8;
let flushing: ReturnType<typeof setTimeout> | undefined;

function flush() {
  clearTimeout(flushing);
  flushing = undefined;
  if (!batch.length) return;
  const transfer = [...new Set(batch.flatMap((b) => b.frames.map((f) => f.pixels.buffer)))];
  self.postMessage({ built: batch.splice(0) } satisfies BulkMessage, { transfer });
}

function postBuilt(job: Job) {
  batch.push({ sop: job.sop, bytes: job.bytes, ts: job.ts, frames: built(job.pixels, job.specs) });
  if (batch.length >= batchMax) flush();
  else flushing ??= setTimeout(flush, 0);
}

// pixelsOf reads as much of the current part as tells where its pixel
// data is (the Part 10 header), without taking it.
async function pixelsOf(r: PartReader): Promise<Pixels | null> {
  for (let n = 4096; ; n *= 2) {
    const b = await r.peek(n);
    const px = pixelsAt(b);
    if (px !== 'more') return px;
    if (b.length >= r.remaining) return null;
  }
}

let credits = 0;
let wake: (() => void) | null = null;

self.onmessage = (e: MessageEvent<BulkRequest>) => {
  const m = e.data;
  if ('credit' in m) {
    credits += m.credit;
    wake?.();
    wake = null;
    return;
  }
  const { url, accept, specs = {} } = m;
  credits = m.credits ?? 64;
  wake = null;
  const post = (m: BulkMessage, transfer: Transferable[] = []) => self.postMessage(m, { transfer });
  let parts = 0;
  (async () => {
    const res = await fetch(url, { headers: { Accept: accept }, credentials: 'same-origin' });
    if (!res.ok) throw new Error(`series retrieve: HTTP ${res.status}`);
    const boundary = boundaryOf(res.headers.get('Content-Type') ?? '');
    if (!boundary || !res.body) throw new Error('not a multipart response');
    const r = new PartReader(res.body, boundary);
    for (let h = await r.next(); h; h = await r.next()) {
      if (credits <= 0) flush();
      while (credits <= 0) await new Promise<void>((ok) => (wake = ok));
      credits--;
      parts++;
      const sop = decodeURIComponent((h['content-location'] ?? '').split('/').pop() ?? '');
      const bytes = r.remaining;
      const sp = specs[sop];
      const px = sp ? await pixelsOf(r) : null;
      if (px && sp && px.offset + px.length <= bytes && fits(px, sp)) {
        // The pixel data straight into the buffer the image will keep; the
        // rest of the part is skipped.
        await r.skip(px.offset);
        postBuilt({ sop, pixels: await r.read(new Uint8Array(px.length)), ts: px.ts, bytes, specs: sp });
        continue;
      }
      flush();
      const data = await r.read(new Uint8Array(bytes));
      const whole = nativePixels(data);
      post({ part: { sop, data, ts: whole?.ts ?? '', offset: whole?.offset ?? 0, length: whole?.length ?? 0 } }, [data.buffer]);
    }
    flush();
    post({ done: parts });
  })().catch((err) => post({ error: String(err) }));
};
