// Reading a multipart/related series retrieve (PS3.18 10.4.1) part by part
// in bulkWorker.ts, with as few copies as the browser allows: where the
// response body is a byte stream (Chromium, Firefox), the bytes a caller
// wants whole (an instance's pixel data) are read straight into the buffer
// it keeps, not into a chunk the stream allocates and then copied; only the
// few kilobytes of part headers and Part 10 header pass through a small
// scratch buffer. Elsewhere each chunk is copied once, as before.
// No Cornerstone import: the worker loads this.
import { headersOf, indexOf } from './frames';

// Fill reads into dst (never more than it holds) and returns a view of the
// bytes it wrote at dst's start, over dst's memory under a new ArrayBuffer
// (a byte stream transfers the buffer it reads into); null at the end.
type Fill = (dst: Uint8Array<ArrayBuffer>) => Promise<Uint8Array<ArrayBuffer> | null>;

function filler(body: ReadableStream<Uint8Array>): { fill: Fill; cancel: () => Promise<void> } {
  try {
    const r = body.getReader({ mode: 'byob' });
    return {
      fill: async (dst) => {
        const { value, done } = await r.read(dst);
        return done || !value ? null : value;
      },
      cancel: () => r.cancel(),
    };
  } catch {
    // Not a byte stream: chunks as the stream makes them, copied.
  }
  const r = body.getReader();
  let left: Uint8Array = new Uint8Array(0);
  return {
    fill: async (dst) => {
      while (!left.length) {
        const { value, done } = await r.read();
        if (done) return null;
        left = value;
      }
      const n = Math.min(dst.length, left.length);
      dst.set(left.subarray(0, n));
      left = left.subarray(n);
      return dst.subarray(0, n);
    },
    cancel: () => r.cancel(),
  };
}

// How much one read into the scratch buffer may take: part headers and a
// Part 10 header fit; what it takes beyond them is copied once more.
const scratchRead = 8 << 10;

const dec = new TextDecoder();

// PartReader reads the body of a multipart/related response. Each part
// must carry Content-Length (Lightbox sets it for instances sent as stored).
export class PartReader {
  private readonly fill: Fill;
  readonly cancel: () => Promise<void>;
  private buf = new ArrayBuffer(4 * scratchRead);
  private start = 0; // unread bytes: buf[start, end)
  private end = 0;
  private left = 0; // bytes of the current part not yet read

  constructor(body: ReadableStream<Uint8Array>, private readonly boundary: string) {
    ({ fill: this.fill, cancel: this.cancel } = filler(body));
  }

  private get pend() {
    return new Uint8Array(this.buf, this.start, this.end - this.start);
  }

  // more reads once more into the scratch buffer (at most max bytes, so a
  // read inside a part does not run into the next); false at the end.
  private async more(max = scratchRead): Promise<boolean> {
    if (this.start === this.end) this.start = this.end = 0;
    if (this.buf.byteLength - this.end < scratchRead) {
      const size = this.end - this.start + scratchRead;
      if (size > this.buf.byteLength) {
        const to = new ArrayBuffer(2 * size);
        new Uint8Array(to).set(this.pend);
        this.buf = to;
      } else {
        new Uint8Array(this.buf).copyWithin(0, this.start, this.end);
      }
      this.end -= this.start;
      this.start = 0;
    }
    const got = await this.fill(new Uint8Array(this.buf, this.end, Math.min(max, this.buf.byteLength - this.end)));
    if (!got) return false;
    this.buf = got.buffer;
    this.end += got.length;
    return true;
  }

  // next reads up to the next part's body: its headers, or null after the
  // last part (the close delimiter, or the end of the stream).
  async next(): Promise<Record<string, string> | null> {
    if (this.left) await this.skip(this.left);
    const close = `--${this.boundary}--`;
    for (let from = 0; ; ) {
      const p = this.pend;
      const end = indexOf(p, crlf2, from);
      if (end >= 0) {
        const head = dec.decode(p.subarray(0, end));
        if (head.includes(close)) return null;
        this.start += end + 4;
        const h = headersOf(head);
        const len = Number(h['content-length']);
        if (!Number.isInteger(len) || len < 0) throw new Error('a part without Content-Length');
        this.left = len;
        return h;
      }
      from = Math.max(0, p.length - 3);
      if (!(await this.more())) {
        if (dec.decode(p).includes(close) || !p.length) return null;
        throw new Error('the response ended inside a part header');
      }
    }
  }

  // remaining: the bytes of the current part not read yet.
  get remaining() {
    return this.left;
  }

  // peek gives at least n more of the current part's bytes (fewer when the
  // part is shorter) without taking them; the view is valid until the next
  // call.
  async peek(n: number): Promise<Uint8Array> {
    n = Math.min(n, this.left);
    while (this.end - this.start < n) {
      if (!(await this.more(Math.max(scratchRead, n - (this.end - this.start))))) throw new Error('the response ended inside a part');
    }
    return new Uint8Array(this.buf, this.start, Math.min(this.end - this.start, this.left));
  }

  // read takes the part's next dst.length bytes into dst and returns the
  // view that holds them now (dst's buffer is transferred on a byte stream).
  async read(dst: Uint8Array<ArrayBuffer>): Promise<Uint8Array<ArrayBuffer>> {
    const n = dst.length;
    if (n > this.left) throw new Error('read past the end of a part');
    const have = Math.min(n, this.end - this.start);
    dst.set(new Uint8Array(this.buf, this.start, have));
    this.start += have;
    let buf = dst.buffer;
    for (let k = have; k < n; ) {
      const got = await this.fill(new Uint8Array(buf, dst.byteOffset + k, n - k));
      if (!got) throw new Error('the response ended inside a part');
      buf = got.buffer;
      k += got.length;
    }
    this.left -= n;
    return new Uint8Array(buf, dst.byteOffset, n);
  }

  // skip drops the part's next n bytes.
  async skip(n: number) {
    if (n > this.left) throw new Error('skip past the end of a part');
    this.left -= n;
    for (;;) {
      const have = Math.min(n, this.end - this.start);
      this.start += have;
      n -= have;
      if (!n) return;
      if (!(await this.more(n))) throw new Error('the response ended inside a part');
    }
  }
}

const crlf2 = new Uint8Array([13, 10, 13, 10]);

const explicitLE = '1.2.840.10008.1.2.1';
const implicitLE = '1.2.840.10008.1.2';
// Explicit VRs with a 4-byte length (PS3.5 7.1.2).
const longVRs = new Set(['OB', 'OD', 'OF', 'OL', 'OV', 'OW', 'SQ', 'SV', 'UC', 'UN', 'UR', 'UT', 'UV']);
const undefinedLength = 0xffffffff;

export interface Pixels {
  ts: string;
  offset: number;
  length: number;
}

class Truncated extends Error {}

// pixelsAt finds the Pixel Data (7FE0,0010) of a Part 10 file stored in
// Explicit or Implicit VR Little Endian (PS3.10 7.1, PS3.5 7) from the
// file's first bytes (b): its transfer syntax and byte range, which may run
// past b's end. 'more' when b ends before the element's header; null for
// any other syntax (encapsulated, deflated, big endian) or a file it cannot
// walk.
export function pixelsAt(b: Uint8Array): Pixels | 'more' | null {
  if (b.length < 132) return 'more';
  if (dec.decode(b.subarray(128, 132)) !== 'DICM') return null;
  const v = new DataView(b.buffer, b.byteOffset, b.byteLength);
  let explicit = true;
  // header reads the element at p: its tag and value length, and where its
  // value starts.
  const header = (p: number) => {
    if (p + 8 > b.length) throw new Truncated();
    const group = v.getUint16(p, true);
    const elem = v.getUint16(p + 2, true);
    if (group === 0xfffe || !explicit) return { group, elem, len: v.getUint32(p + 4, true), at: p + 8 };
    const vr = String.fromCharCode(b[p + 4], b[p + 5]);
    if (longVRs.has(vr)) {
      if (p + 12 > b.length) throw new Truncated();
      return { group, elem, len: v.getUint32(p + 8, true), at: p + 12 };
    }
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
      if (h.elem === 0x0010) {
        if (h.at + h.len > b.length) throw new Truncated();
        ts = dec.decode(b.subarray(h.at, h.at + h.len)).replace(/[\0 ]+$/, '');
      }
      p = h.at + h.len;
    }
    if (ts !== explicitLE && ts !== implicitLE) return null;
    explicit = ts === explicitLE;
    for (;;) {
      const h = header(p);
      if (h.group === 0x7fe0 && h.elem === 0x0010) return h.len === undefinedLength ? null : { ts, offset: h.at, length: h.len };
      p = h.len === undefinedLength ? skip(h.at, 0xe0dd) : h.at + h.len;
    }
  } catch (e) {
    return e instanceof Truncated ? 'more' : null;
  }
}

// nativePixels is pixelsAt for a whole file: null unless the pixel data is
// all in b.
export function nativePixels(b: Uint8Array): Pixels | null {
  const px = pixelsAt(b);
  return px && px !== 'more' && px.offset + px.length <= b.length ? px : null;
}
