// Native (uncompressed) greyscale frames made ready for the image cache in
// the series retrieve's worker (bulkWorker.ts), the way the image loader's
// decoder worker does it (dicom-image-loader postProcessDecodedPixels and
// createImage's setPixelDataType): sign extension, the rescale applied
// (pre-scaled), the smallest typed array that holds the result. Through
// the loader each frame was copied to its decoder worker, copied back and
// copied once more on the page's thread, which took most of the page's
// time while a 1,000-slice series arrived (bench/viewer); here the worker
// does the work and transfers the result. No Cornerstone import: the
// worker loads this.
import { add16 } from './simd16';

// FrameSpec is what the worker needs to know of one frame (the page reads
// it from the loader's metadata).
export interface FrameSpec {
  bits: 8 | 16; // Bits Allocated
  stored: number; // Bits Stored
  signed: boolean; // Pixel Representation 1
  pixels: number; // rows × columns
  // The rescale the loader would apply (getScalingParameters), none when
  // it would not pre-scale.
  scale?: { slope: number; intercept: number };
}

export interface NativeFrame {
  pixels: Uint8Array | Int8Array | Uint16Array | Int16Array | Uint32Array | Float32Array;
  min: number; // after the rescale
  max: number;
  scaled: boolean;
}

// scaledRange is the stored range after the rescale: a negative slope
// (some PET and inverted CR) turns the stored minimum into the maximum.
function scaledRange(lo: number, hi: number, sc: { slope: number; intercept: number }): [number, number] {
  const a = sc.slope * lo + sc.intercept;
  const b = sc.slope * hi + sc.intercept;
  return a <= b ? [a, b] : [b, a];
}

// typeFor mirrors the loader's getPixelDataTypeFromMinMax.
function typeFor(min: number, max: number) {
  if (Number.isInteger(min) && Number.isInteger(max)) {
    if (min >= 0) {
      if (max <= 255) return Uint8Array;
      if (max <= 65535) return Uint16Array;
      if (max <= 4294967295) return Uint32Array;
    } else {
      if (min >= -128 && max <= 127) return Int8Array;
      if (min >= -32768 && max <= 32767) return Int16Array;
    }
  }
  return Float32Array;
}

type Pixels = NativeFrame['pixels'];
export type PixelType = ReturnType<typeof typeFor>;

// nativeFrame makes one frame from its bytes (b, exactly the frame; the
// caller owns them: sign extension happens in place). guess is the typed
// array the series' previous frame came out as: the rescale then goes
// straight into one without a separate pass for the range, and is redone
// only when this frame's range needs another type. own: b is the whole of
// its buffer and the caller gives it up: where the result's type is as
// wide as the stored one (CT: 16 bits stored, 16-bit signed after the
// rescale) the frame is made in that buffer, without a second one.
export function nativeFrame(b: Uint8Array<ArrayBuffer>, s: FrameSpec, guess?: PixelType, own = false): NativeFrame & { type: PixelType } {
  let src: Uint8Array | Uint16Array | Int16Array;
  if (s.bits === 16) {
    const aligned = b.byteOffset % 2 === 0 ? b : b.slice();
    src = new (s.signed ? Int16Array : Uint16Array)(aligned.buffer, aligned.byteOffset, s.pixels);
  } else {
    src = b.subarray(0, s.pixels);
  }
  own &&= src.buffer === b.buffer && b.byteOffset === 0 && b.byteLength === b.buffer.byteLength && src.byteLength === b.byteLength;
  const shift = s.signed && s.stored < s.bits ? 32 - s.stored : 0;
  const sc = s.scale;
  // In place: the stored values go by whole numbers of the same width, so
  // a frame whose range turns out to need another type can be restored
  // (the sum wraps in both directions alike).
  const inPlace = (t: PixelType) => own && t.BYTES_PER_ELEMENT === src.BYTES_PER_ELEMENT && (!sc || (sc.slope === 1 && Number.isInteger(sc.intercept)));
  if (guess && sc && !shift) {
    const out = inPlace(guess) ? new guess(b.buffer, src.byteOffset, src.length) : new guess(src.length);
    const r = rescale(src, out, sc.slope, sc.intercept);
    const [min, max] = scaledRange(r.min, r.max, sc);
    if (typeFor(min, max) === guess) return { pixels: out, min, max, scaled: true, type: guess };
    if (out.buffer === src.buffer) rescale(out, src, 1, -sc.intercept);
  }
  let { min, max } = shift ? signExtend(src, shift) : range(src);
  if (sc) {
    [min, max] = scaledRange(min, max, sc);
  }
  const type = typeFor(min, max);
  if (inPlace(type)) {
    const out = new type(b.buffer, src.byteOffset, src.length);
    if (sc) rescale(src, out, sc.slope, sc.intercept);
    return { pixels: out, min, max, scaled: !!sc, type };
  }
  const out = new type(src.length);
  if (sc) rescale(src, out, sc.slope, sc.intercept);
  else out.set(src);
  return { pixels: out, min, max, scaled: !!sc, type };
}

// range is the stored values' smallest and largest (the loader's getMinMax).
function range(src: Pixels) {
  const fast = is16(src) ? add16(src, 0) : null;
  if (fast) return fast;
  let min = src.length ? src[0] : 0;
  let max = min;
  for (let i = 1; i < src.length; i++) {
    const v = src[i];
    min = v < min ? v : min;
    max = v > max ? v : max;
  }
  return { min, max };
}

const is16 = (a: Pixels): a is Int16Array | Uint16Array => a instanceof Int16Array || a instanceof Uint16Array;

// signExtend makes the top stored bit the sign (PS3.5 8.1.1), in place.
function signExtend(src: Pixels, shift: number) {
  for (let i = 0; i < src.length; i++) src[i] = (src[i] << shift) >> shift;
  return range(src);
}

// rescale writes src × slope + intercept into out and returns src's range.
// An integer slope of 1 (most CT) adds in small integers, which V8 stores
// into the typed array faster than the product of doubles.
// In place on 16-bit values (the series retrieve's CT) it runs in SIMD
// (simd16.ts).
function rescale(src: Pixels, out: Pixels, slope: number, intercept: number) {
  if (slope === 1 && Number.isInteger(intercept) && is16(src) && is16(out) && out.buffer === src.buffer && out.byteOffset === src.byteOffset) {
    const fast = add16(src, intercept);
    if (fast) return fast;
  }
  let min = src.length ? src[0] : 0;
  let max = min;
  if (slope === 1 && Number.isInteger(intercept)) {
    for (let i = 0; i < src.length; i++) {
      const v = src[i];
      out[i] = v + intercept;
      min = v < min ? v : min;
      max = v > max ? v : max;
    }
  } else {
    for (let i = 0; i < src.length; i++) {
      const v = src[i];
      out[i] = v * slope + intercept;
      min = v < min ? v : min;
      max = v > max ? v : max;
    }
  }
  return { min, max };
}
