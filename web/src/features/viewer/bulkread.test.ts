import { describe, expect, it } from 'vitest';
import { nativePixels, PartReader, pixelsAt } from './bulkread';
import { boundaryOf } from './frames';

const te = new TextEncoder();

function u16(n: number) {
  return [n & 0xff, n >> 8];
}
function u32(n: number) {
  return [n & 0xff, (n >> 8) & 0xff, (n >> 16) & 0xff, (n >>> 24) & 0xff];
}
// el writes an element: explicit VR (short or long length) or implicit.
function el(g: number, e: number, vr: string | null, value: number[], len = value.length): number[] {
  const head = [...u16(g), ...u16(e)];
  if (vr === null) return [...head, ...u32(len), ...value];
  const long = ['OB', 'OW', 'SQ', 'UN', 'UT'].includes(vr);
  return [...head, ...te.encode(vr), ...(long ? [0, 0, ...u32(len)] : u16(len)), ...value];
}
const str = (s: string) => [...te.encode(s.length % 2 ? s + '\0' : s)];

function part10(ts: string, body: number[]): Uint8Array {
  return new Uint8Array([...new Array(128).fill(0), ...te.encode('DICM'), ...el(0x0002, 0x0010, 'UI', str(ts)), ...body]);
}

describe('nativePixels', () => {
  const pixels = [1, 0, 2, 0, 3, 0, 4, 0];
  // A sequence of undefined length with one item of undefined length, then
  // the pixel data.
  const seq = [
    ...el(0x0008, 0x1032, 'SQ', [], 0xffffffff),
    ...u16(0xfffe), ...u16(0xe000), ...u32(0xffffffff),
    ...el(0x0008, 0x0100, 'SH', str('70450')),
    ...u16(0xfffe), ...u16(0xe00d), ...u32(0),
    ...u16(0xfffe), ...u16(0xe0dd), ...u32(0),
  ];
  it('finds the pixel data of an explicit VR little endian file past a sequence', () => {
    const b = part10('1.2.840.10008.1.2.1', [...el(0x0008, 0x0060, 'CS', str('CT')), ...seq, ...el(0x7fe0, 0x0010, 'OW', pixels)]);
    const px = nativePixels(b);
    expect(px?.ts).toBe('1.2.840.10008.1.2.1');
    expect(Array.from(b.subarray(px!.offset, px!.offset + px!.length))).toEqual(pixels);
  });
  it('reads implicit VR little endian', () => {
    const b = part10('1.2.840.10008.1.2', [...el(0x0028, 0x0010, null, u16(2)), ...el(0x7fe0, 0x0010, null, pixels)]);
    expect(nativePixels(b)?.length).toBe(8);
  });
  it('refuses encapsulated and truncated data', () => {
    expect(nativePixels(part10('1.2.840.10008.1.2.4.70', el(0x7fe0, 0x0010, 'OB', [], 0xffffffff)))).toBeNull();
    expect(nativePixels(part10('1.2.840.10008.1.2.1', el(0x7fe0, 0x0010, 'OW', pixels).slice(0, 14)))).toBeNull();
    expect(nativePixels(new Uint8Array(10))).toBeNull();
  });
});

describe('pixelsAt', () => {
  it('finds the pixel data from the first bytes of a file, and asks for more before them', () => {
    const b = part10('1.2.840.10008.1.2.1', [...el(0x0008, 0x0060, 'CS', str('CT')), ...el(0x7fe0, 0x0010, 'OW', [1, 0, 2, 0, 3, 0, 4, 0])]);
    const at = b.length - 8;
    expect(pixelsAt(b.subarray(0, at))).toEqual({ ts: '1.2.840.10008.1.2.1', offset: at, length: 8 });
    for (const n of [100, 140, at - 12, at - 1]) expect(pixelsAt(b.subarray(0, n))).toBe('more');
    expect(nativePixels(b.subarray(0, at + 4))).toBeNull();
  });
});

describe('PartReader', () => {
  const ct = 'multipart/related; type="application/dicom"; boundary=XyZ';
  const body = te.encode(
    '--XyZ\r\nContent-Type: application/octet-stream; transfer-syntax=1.2.840.10008.1.2.1\r\nContent-Length: 4\r\n\r\nabcd' +
      '\r\n--XyZ\r\nContent-Length: 0\r\n\r\n' +
      '\r\n--XyZ\r\nContent-Length: 10\r\nContent-Location: http://h/x/instances/1.2.3\r\n\r\nefghijklmn\r\n--XyZ--\r\n',
  );
  const streams = (size: number) => {
    const chunks: Uint8Array[] = [];
    for (let i = 0; i < body.length; i += size) chunks.push(body.slice(i, i + size));
    return {
      // chunks as a network stream makes them
      plain: new ReadableStream<Uint8Array>({
        start(c) {
          chunks.forEach((x) => c.enqueue(x));
          c.close();
        },
      }),
      // a byte stream (as fetch's body in Chromium): read into the caller's buffers
      bytes: new ReadableStream({
        type: 'bytes',
        start(c) {
          // (enqueuing transfers a chunk's buffer: copies)
          chunks.forEach((x) => c.enqueue(x.slice()));
          c.close();
        },
      }),
    };
  };
  it('reads parts split across any chunks, whole, in pieces and skipped', async () => {
    for (const size of [1, 3, 7, 1000]) {
      for (const [kind, stream] of Object.entries(streams(size))) {
        const r = new PartReader(stream, boundaryOf(ct));
        const got: string[] = [];
        for (let h = await r.next(); h; h = await r.next()) {
          const n = r.remaining;
          if (n === 10) {
            // a piece, skipped bytes, a piece; the rest left for next()
            const peeked = new TextDecoder().decode(await r.peek(2)).slice(0, 2);
            const a = await r.read(new Uint8Array(3));
            await r.skip(2);
            const b = await r.read(new Uint8Array(new ArrayBuffer(8), 4, 4));
            got.push(`${h['content-location']}=${peeked}/${new TextDecoder().decode(a)}/${new TextDecoder().decode(b)}/${b.byteOffset}`);
          } else {
            got.push(`${n}=${new TextDecoder().decode(await r.read(new Uint8Array(n)))}`);
          }
        }
        expect(got, `${kind} ${size}`).toEqual(['4=abcd', '0=', 'http://h/x/instances/1.2.3=ef/efg/jklm/4']);
      }
    }
  });
});
