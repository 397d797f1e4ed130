import { describe, expect, it } from 'vitest';
import { nativeFrame, type FrameSpec } from './native';

const bytes = (a: Uint16Array<ArrayBuffer> | Int16Array<ArrayBuffer>) => new Uint8Array(a.buffer.slice(0), a.byteOffset, a.byteLength);

describe('nativeFrame', () => {
  it('rescales CT into the smallest signed type, as the loader does', () => {
    const spec: FrameSpec = { bits: 16, stored: 12, signed: false, pixels: 4, scale: { slope: 1, intercept: -1024 } };
    const f = nativeFrame(bytes(new Uint16Array([0, 1024, 3000, 40])), spec);
    expect(f.pixels).toBeInstanceOf(Int16Array);
    expect([...f.pixels]).toEqual([-1024, 0, 1976, -984]);
    expect([f.min, f.max, f.scaled]).toEqual([-1024, 1976, true]);
  });

  it('takes the previous frame type when the range fits it, and redoes it when not', () => {
    const spec: FrameSpec = { bits: 16, stored: 16, signed: false, pixels: 2, scale: { slope: 1, intercept: -1024 } };
    const a = nativeFrame(bytes(new Uint16Array([0, 100])), spec, Int16Array);
    expect(a.type).toBe(Int16Array);
    expect([...a.pixels]).toEqual([-1024, -924]);
    // 60,000 - 1,024 does not fit 16 signed bits: the loader's choice is a float array.
    const b = nativeFrame(bytes(new Uint16Array([0, 60000])), spec, Int16Array);
    expect(b.pixels).toBeInstanceOf(Float32Array);
    expect([...b.pixels]).toEqual([-1024, 58976]);
    expect([b.min, b.max]).toEqual([-1024, 58976]);
  });

  it('keeps min below max under a negative slope', () => {
    const spec: FrameSpec = { bits: 16, stored: 16, signed: false, pixels: 3, scale: { slope: -1, intercept: 1000 } };
    for (const guess of [undefined, Int16Array]) {
      const f = nativeFrame(bytes(new Uint16Array([0, 400, 1000])), spec, guess);
      expect([...f.pixels]).toEqual([1000, 600, 0]);
      expect([f.min, f.max]).toEqual([0, 1000]);
    }
  });

  it('applies a fractional slope in floats', () => {
    const spec: FrameSpec = { bits: 16, stored: 16, signed: true, pixels: 2, scale: { slope: 0.5, intercept: 1 } };
    const f = nativeFrame(bytes(new Int16Array([-3, 5])), spec);
    expect(f.pixels).toBeInstanceOf(Float32Array);
    expect([...f.pixels]).toEqual([-0.5, 3.5]);
  });

  it('sign-extends from Bits Stored', () => {
    // 12 bits stored: 0x0fff is -1, 0x0800 is -2048.
    const spec: FrameSpec = { bits: 16, stored: 12, signed: true, pixels: 3 };
    const f = nativeFrame(bytes(new Int16Array([0x0fff, 0x0800, 5])), spec);
    expect([...f.pixels]).toEqual([-1, -2048, 5]);
    expect(f.pixels).toBeInstanceOf(Int16Array);
    expect([f.min, f.max, f.scaled]).toEqual([-2048, 5, false]);
  });

  it('narrows unscaled 16-bit values to bytes when they fit, and reads odd offsets', () => {
    const raw = new Uint8Array(5);
    new DataView(raw.buffer).setUint16(1, 200, true);
    new DataView(raw.buffer).setUint16(3, 7, true);
    const f = nativeFrame(raw.subarray(1), { bits: 16, stored: 16, signed: false, pixels: 2 });
    expect(f.pixels).toBeInstanceOf(Uint8Array);
    expect([...f.pixels]).toEqual([200, 7]);
  });

  it('copies 8-bit frames', () => {
    const src = new Uint8Array([3, 250]);
    const f = nativeFrame(src, { bits: 8, stored: 8, signed: false, pixels: 2 });
    expect([...f.pixels]).toEqual([3, 250]);
    expect(f.pixels.buffer).not.toBe(src.buffer);
  });

  it('makes a frame in the buffer it owns when the result is as wide', () => {
    const spec: FrameSpec = { bits: 16, stored: 12, signed: false, pixels: 3, scale: { slope: 1, intercept: -1024 } };
    for (const guess of [undefined, Int16Array, Uint16Array]) {
      const src = bytes(new Uint16Array([0, 1024, 3000]));
      const f = nativeFrame(src, spec, guess, true);
      expect(f.pixels).toBeInstanceOf(Int16Array);
      expect(f.pixels.buffer).toBe(src.buffer);
      expect([...f.pixels]).toEqual([-1024, 0, 1976]);
      expect([f.min, f.max]).toEqual([-1024, 1976]);
    }
    // A wrong guess made in place is undone before the float array is made.
    const wide: FrameSpec = { ...spec, stored: 16, pixels: 2 };
    const b = nativeFrame(bytes(new Uint16Array([0, 60000])), wide, Int16Array, true);
    expect(b.pixels).toBeInstanceOf(Float32Array);
    expect([...b.pixels]).toEqual([-1024, 58976]);
    // Narrower results, and bytes that are not the whole buffer, are copies.
    const narrow = bytes(new Uint16Array([200, 7]));
    expect(nativeFrame(narrow, { bits: 16, stored: 16, signed: false, pixels: 2 }, undefined, true).pixels.buffer).not.toBe(narrow.buffer);
    const part = new Uint8Array(6);
    const c = nativeFrame(part.subarray(2), { ...spec, pixels: 2 }, Int16Array, true);
    expect(c.pixels.buffer).not.toBe(part.buffer);
    // 8-bit unsigned, unscaled: the bytes themselves.
    const eight = new Uint8Array([3, 250]);
    expect(nativeFrame(eight, { bits: 8, stored: 8, signed: false, pixels: 2 }, undefined, true).pixels.buffer).toBe(eight.buffer);
  });
});
