import { describe, expect, it } from 'vitest';
import type { DicomJSON } from '../../api/types';
import { rewriteFor, rewriteFrame, unpackBits, ybr422ToRGB } from './predecode';

const md = (bits: number, photo: string, rows: number, cols: number): DicomJSON => ({
  '00280100': { vr: 'US', Value: [bits] },
  '00280004': { vr: 'CS', Value: [photo] },
  '00280010': { vr: 'US', Value: [rows] },
  '00280011': { vr: 'US', Value: [cols] },
});

const enc = (s: string) => Uint8Array.from(s, (c) => c.charCodeAt(0));
function multipart(ts: string, frame: Uint8Array): ArrayBuffer {
  const pre = enc(`--b1\r\nContent-Type: application/octet-stream; transfer-syntax=${ts}\r\n\r\n`);
  const post = enc('\r\n--b1--\r\n');
  const out = new Uint8Array(pre.length + frame.length + post.length);
  out.set(pre);
  out.set(frame, pre.length);
  out.set(post, pre.length + frame.length);
  return out.buffer;
}
// part reads back what the loader's extractMultipart would: the part's
// Content-Type and its bytes.
function part(body: ArrayBuffer): { type: string; data: number[] } {
  const b = new Uint8Array(body);
  const text = String.fromCharCode(...b);
  const start = text.indexOf('\r\n\r\n') + 4;
  const stop = text.lastIndexOf('\r\n--b1--');
  return { type: /Content-Type: ([^\r]*)/.exec(text)![1], data: [...b.subarray(start, stop)] };
}

describe('predecode', () => {
  it('picks 1-bit and YBR_FULL_422 8-bit only', () => {
    expect(rewriteFor(md(1, 'MONOCHROME2', 8, 8))).toBe('unpack-bits');
    expect(rewriteFor(md(8, 'YBR_FULL_422', 2, 2))).toBe('ybr422-rgb');
    expect(rewriteFor(md(8, 'YBR_FULL', 2, 2))).toBeNull();
    expect(rewriteFor(md(16, 'MONOCHROME2', 2, 2))).toBeNull();
    expect(rewriteFor(undefined)).toBeNull();
  });
  it('unpacks bits least significant first (PS3.5 8.1.1)', () => {
    expect([...unpackBits(Uint8Array.of(0b00000101, 0b10000000), 16)]).toEqual([1, 0, 1, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 1]);
    expect([...unpackBits(Uint8Array.of(0xff), 3)]).toEqual([1, 1, 1]);
  });
  it('converts Y1 Y2 Cb Cr to RGB', () => {
    // grey (Cb = Cr = 128) stays grey; pure Cr pushes red up, green down.
    expect([...ybr422ToRGB(Uint8Array.of(10, 200, 128, 128), 2)]).toEqual([10, 10, 10, 200, 200, 200]);
    expect([...ybr422ToRGB(Uint8Array.of(100, 100, 128, 228), 2)]).toEqual([240, 29, 100, 240, 29, 100]);
  });
  it('rewrites a native 1-bit frame as Explicit VR Little Endian bytes', () => {
    const out = part(rewriteFrame(multipart('1.2.840.10008.1.2.1', Uint8Array.of(0b1001)), md(1, 'MONOCHROME2', 2, 2)));
    expect(out.type).toBe('application/octet-stream; transfer-syntax=1.2.840.10008.1.2.1');
    expect(out.data).toEqual([1, 0, 0, 1]);
  });
  it('swaps a big-endian OW 1-bit frame before unpacking', () => {
    const m = { ...md(1, 'MONOCHROME2', 4, 4), '7FE00010': { vr: 'OW' } };
    const out = part(rewriteFrame(multipart('1.2.840.10008.1.2.2', Uint8Array.of(0, 1)), m));
    expect(out.data).toEqual([1, ...Array(15).fill(0)]);
  });
  it('rewrites a native 4:2:2 frame as RGB', () => {
    const out = part(rewriteFrame(multipart('1.2.840.10008.1.2.1', Uint8Array.of(10, 200, 128, 128)), md(8, 'YBR_FULL_422', 1, 2)));
    expect(out.data).toEqual([10, 10, 10, 200, 200, 200]);
  });
  it('leaves JPEG and other images alone', () => {
    const jpeg = multipart('1.2.840.10008.1.2.4.50', Uint8Array.of(1, 2, 3, 4));
    expect(rewriteFrame(jpeg, md(8, 'YBR_FULL_422', 1, 2))).toBe(jpeg);
    const ct = multipart('1.2.840.10008.1.2.1', Uint8Array.of(1, 2));
    expect(rewriteFrame(ct, md(16, 'MONOCHROME2', 1, 1))).toBe(ct);
  });
});
