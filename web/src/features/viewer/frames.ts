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

function indexOf(b: Uint8Array, seq: Uint8Array, from = 0): number {
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

function headersOf(text: string): Record<string, string> {
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

// streamParts reads a multipart/related response part by part as it
// arrives; each part must carry Content-Length (Lightbox sets it for
// instances sent as stored); onPart may hold the reading back by returning
// a promise. Each part gets its own buffer (from alloc when given: a
// caller done with a part's bytes may give its buffer to the next), so
// handing its bytes to a decoder worker copies that part alone.
export async function streamParts(
  res: Response,
  onPart: (headers: Record<string, string>, data: Uint8Array<ArrayBuffer>) => void | Promise<void>,
  signal?: AbortSignal,
  alloc: (length: number) => Uint8Array<ArrayBuffer> = (n) => new Uint8Array(n),
) {
  const boundary = boundaryOf(res.headers.get('Content-Type') ?? '');
  if (!boundary || !res.body) throw new Error('not a multipart response');
  const reader = res.body.getReader();
  const crlf2 = enc.encode('\r\n\r\n');
  const close = `--${boundary}--`;
  let pend = new Uint8Array(0); // bytes before the next part's body
  let part: Uint8Array<ArrayBuffer> | null = null;
  let headers: Record<string, string> = {};
  let filled = 0;
  for (;;) {
    if (signal?.aborted) {
      await reader.cancel();
      return;
    }
    const { done, value } = await reader.read();
    if (done) break;
    let c = value;
    while (c.length) {
      if (part) {
        const n = Math.min(part.length - filled, c.length);
        part.set(c.subarray(0, n), filled);
        filled += n;
        c = c.subarray(n);
        if (filled === part.length) {
          await onPart(headers, part);
          part = null;
        }
        continue;
      }
      const joined = new Uint8Array(pend.length + c.length);
      joined.set(pend);
      joined.set(c, pend.length);
      const end = indexOf(joined, crlf2);
      if (end < 0) {
        pend = joined;
        break;
      }
      const head = dec.decode(joined.subarray(0, end));
      if (head.includes(close)) return;
      headers = headersOf(head);
      const len = Number(headers['content-length']);
      if (!Number.isInteger(len) || len < 0) throw new Error('a part without Content-Length');
      part = alloc(len);
      filled = 0;
      pend = new Uint8Array(0);
      c = joined.subarray(end + 4);
      if (len === 0) {
        await onPart(headers, part);
        part = null;
      }
    }
  }
  if (part) throw new Error('the response ended inside a part');
}

const explicitLE = '1.2.840.10008.1.2.1';
const implicitLE = '1.2.840.10008.1.2';
// Explicit VRs with a 4-byte length (PS3.5 7.1.2).
const longVRs = new Set(['OB', 'OD', 'OF', 'OL', 'OV', 'OW', 'SQ', 'SV', 'UC', 'UN', 'UR', 'UT', 'UV']);
const undefinedLength = 0xffffffff;

// nativePixels finds the Pixel Data (7FE0,0010) of a Part 10 file stored
// in Explicit or Implicit VR Little Endian (PS3.10 7.1, PS3.5 7): its
// transfer syntax and byte range. null for any other syntax (encapsulated,
// deflated, big endian) or a file it cannot walk.
export function nativePixels(b: Uint8Array): { ts: string; offset: number; length: number } | null {
  if (b.length < 132 || dec.decode(b.subarray(128, 132)) !== 'DICM') return null;
  const v = new DataView(b.buffer, b.byteOffset, b.byteLength);
  let explicit = true;
  // header reads the element at p: its tag and value length, and where its
  // value starts.
  const header = (p: number) => {
    if (p + 8 > b.length) throw new Error('truncated');
    const group = v.getUint16(p, true);
    const elem = v.getUint16(p + 2, true);
    if (group === 0xfffe || !explicit) return { group, elem, len: v.getUint32(p + 4, true), at: p + 8 };
    const vr = String.fromCharCode(b[p + 4], b[p + 5]);
    if (longVRs.has(vr)) return { group, elem, len: v.getUint32(p + 8, true), at: p + 12 };
    return { group, elem, len: v.getUint16(p + 6, true), at: p + 8 };
  };
  // skip walks past the items of a sequence of undefined length (or the
  // elements of an item of undefined length) to its delimiter.
  const skip = (p: number, delim: number): number => {
    for (;;) {
      const h = header(p);
      if (h.group === 0xfffe && h.elem === delim) return h.at;
      if (h.len === undefinedLength) p = skip(h.at, h.group === 0xfffe ? 0xe00d : 0xe0dd);
      else p = h.at + h.len;
    }
  };
  try {
    let p = 132;
    let ts = '';
    for (let h = header(p); h.group === 0x0002; h = header(p)) {
      if (h.elem === 0x0010) ts = dec.decode(b.subarray(h.at, h.at + h.len)).replace(/[\0 ]+$/, '');
      p = h.at + h.len;
    }
    if (ts !== explicitLE && ts !== implicitLE) return null;
    explicit = ts === explicitLE;
    while (p < b.length) {
      const h = header(p);
      if (h.group === 0x7fe0 && h.elem === 0x0010) {
        return h.len === undefinedLength || h.at + h.len > b.length ? null : { ts, offset: h.at, length: h.len };
      }
      p = h.len === undefinedLength ? skip(h.at, 0xe0dd) : h.at + h.len;
    }
  } catch {
    return null;
  }
  return null;
}
