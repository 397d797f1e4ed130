import { describe, expect, it } from 'vitest';
import { boundaryOf, firstPart, nativePixels, streamParts, transferSyntaxOf } from './frames';

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

describe('multipart', () => {
  const ct = 'multipart/related; type="application/dicom"; boundary=XyZ';
  const body = te.encode(
    '--XyZ\r\nContent-Type: application/octet-stream; transfer-syntax=1.2.840.10008.1.2.1\r\nContent-Length: 4\r\n\r\nabcd' +
      '\r\n--XyZ\r\nContent-Length: 3\r\nContent-Location: http://h/x/instances/1.2.3\r\n\r\nefg\r\n--XyZ--\r\n',
  );
  it('reads the first part of a held body', () => {
    const p = firstPart(body, boundaryOf(ct));
    expect(new TextDecoder().decode(p!.data)).toBe('abcd');
    expect(transferSyntaxOf(p!.headers['content-type'])).toBe('1.2.840.10008.1.2.1');
  });
  it('streams parts split across any chunks', async () => {
    for (const size of [1, 3, 7, 1000]) {
      const chunks: Uint8Array[] = [];
      for (let i = 0; i < body.length; i += size) chunks.push(body.slice(i, i + size));
      const stream = new ReadableStream<Uint8Array>({
        start(c) {
          chunks.forEach((x) => c.enqueue(x));
          c.close();
        },
      });
      const got: string[] = [];
      await streamParts(new Response(stream, { headers: { 'Content-Type': ct } }), (h, d) => {
        got.push(`${h['content-location'] ?? ''}=${new TextDecoder().decode(d)}`);
      });
      expect(got).toEqual(['=abcd', 'http://h/x/instances/1.2.3=efg']);
    }
  });
});
