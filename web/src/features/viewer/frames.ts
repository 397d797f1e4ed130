// Frame bytes fetched outside the image loader's one-request-per-frame path,
// held until the loader asks for them (cornerstone.ts registers takeFrame as
// its compressed-frame registry, which the loader reads before the network):
//   - the opening frame, asked for as soon as the series metadata is in,
//     while the viewer's code and Cornerstone are still starting;
//   - a whole series of native (uncompressed) instances in one WADO-RS
//     series retrieve (PS3.18 10.4.1), instead of a thousand frame requests
//     through the browser's six connections per host.
// No Cornerstone import: the case page loads this before the viewer chunk.

export interface HeldFrame {
  pixelData: Uint8Array;
  transferSyntaxUid: string;
}

const held = new Map<string, HeldFrame>();
const coming = new Map<string, Promise<void>>();

// takeFrame hands a held frame to the loader once (it caches the decoded
// image; the bytes are not kept twice).
export function takeFrame(imageId: string): HeldFrame | undefined {
  const f = held.get(imageId);
  held.delete(imageId);
  return f;
}

export function holdFrame(imageId: string, f: HeldFrame) {
  held.set(imageId, f);
}

// frameComing resolves once a fetch started for imageId has ended (at once
// when none was started), so the viewer asks the loader after it.
export function frameComing(imageId: string): Promise<void> {
  return coming.get(imageId) ?? Promise.resolve();
}

// cached tells whether the image cache holds an image already (set by
// cornerstone.ts once Cornerstone runs): a prefetched case's opening frame
// is not fetched again.
let cached: (imageId: string) => boolean = () => false;

export function setCachedCheck(f: (imageId: string) => boolean) {
  cached = f;
}

export function forgetFrames() {
  held.clear();
  coming.clear();
}

const enc = new TextEncoder();
const dec = new TextDecoder();

export function indexOf(b: Uint8Array, seq: Uint8Array, from = 0): number {
  const first = seq[0];
  for (let i = b.indexOf(first, from); i >= 0 && i + seq.length <= b.length; i = b.indexOf(first, i + 1)) {
    let k = 1;
    while (k < seq.length && b[i + k] === seq[k]) k++;
    if (k === seq.length) return i;
  }
  return -1;
}

export function boundaryOf(contentType: string): string {
  const m = /boundary="?([^";]+)"?/i.exec(contentType);
  return m ? m[1] : '';
}

// transferSyntaxOf reads the transfer-syntax parameter of a part's type.
export function transferSyntaxOf(contentType: string): string {
  const m = /transfer-syntax="?([0-9.]+)"?/i.exec(contentType);
  return m ? m[1] : '';
}

export function headersOf(text: string): Record<string, string> {
  const out: Record<string, string> = {};
  for (const line of text.split('\r\n')) {
    const i = line.indexOf(':');
    if (i > 0) out[line.slice(0, i).trim().toLowerCase()] = line.slice(i + 1).trim();
  }
  return out;
}

// firstPart is the first body part of a multipart/related response held
// in memory (a frame request).
export function firstPart(body: Uint8Array, boundary: string): { headers: Record<string, string>; data: Uint8Array } | null {
  const start = indexOf(body, enc.encode(`--${boundary}`));
  if (start < 0) return null;
  const hEnd = indexOf(body, enc.encode('\r\n\r\n'), start);
  if (hEnd < 0) return null;
  const headers = headersOf(dec.decode(body.subarray(start, hEnd)));
  const from = hEnd + 4;
  const len = Number(headers['content-length']);
  const end = Number.isInteger(len) && len >= 0 ? from + len : indexOf(body, enc.encode(`\r\n--${boundary}`), from);
  if (end < from || end > body.length) return null;
  return { headers, data: body.slice(from, end) };
}

// The reader's last input (keys, wheel, a pressed pointer) or case
// opening: background work (the prefetch's series retrieves, bulk.ts) holds
// back for a moment after it, so stepping through slices or opening the
// next case does not share the page with it.
let activity = -Infinity;
for (const ev of ['keydown', 'wheel', 'pointerdown', 'pointermove'] as const) {
  globalThis.addEventListener?.(ev, (e) => {
    if (ev !== 'pointermove' || (e as PointerEvent).buttons) activity = performance.now();
  }, { capture: true, passive: true });
}

export function lastActivity() {
  return activity;
}

// What a case's first image does not need (the case page's worklist row,
// the priors query) waits for it, or for max ms: on the page's busy thread
// each such request, and the render of its answer, came in front of the
// first draw. caseOpening starts a case's wait; imageDrawn ends it.
let drawnSince = true;
const drawWaiters: (() => void)[] = [];

export function caseOpening() {
  drawnSince = false;
}

export function imageDrawn() {
  drawnSince = true;
  drawWaiters.splice(0).forEach((f) => f());
}

export function afterFirstImage(max = 1000): Promise<void> {
  if (drawnSince) return Promise.resolve();
  return new Promise((ok) => {
    drawWaiters.push(ok);
    setTimeout(ok, max);
  });
}

// The transfer syntax of the page's last opening frame ('' when its fetch
// failed), or null when none was fetched: cornerstone.ts starts the
// loader's decoder workers at once only for a frame they must decode.
let opening: Promise<string> | null = null;

export function openingSyntax(): Promise<string> | null {
  return opening;
}

// fetchOpeningFrame fetches one frame (WADO-RS) and holds it for the loader.
export function fetchOpeningFrame(imageId: string, accept: string) {
  activity = performance.now(); // a case is opening
  if (coming.has(imageId) || held.has(imageId) || cached(imageId)) return;
  const p = (async () => {
    const res = await fetch(imageId.replace(/^wadors:/, ''), { headers: { Accept: accept }, credentials: 'same-origin' });
    if (!res.ok) return '';
    const part = firstPart(new Uint8Array(await res.arrayBuffer()), boundaryOf(res.headers.get('Content-Type') ?? ''));
    const ts = part && transferSyntaxOf(part.headers['content-type'] ?? '');
    if (part && ts) holdFrame(imageId, { pixelData: part.data, transferSyntaxUid: ts });
    return ts || '';
  })().catch(() => '');
  opening = p;
  coming.set(imageId, p.then(() => {}));
}
