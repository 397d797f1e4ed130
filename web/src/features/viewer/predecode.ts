// Pre-decode: the two native pixel formats the image loader's WADO-RS path
// shows wrong are rewritten in the browser before the loader parses the
// frame (its `beforeProcessing` hook, which sees each frame response):
//
//   - Bits Allocated 1 (segmentations, overlays as images): PS3.5 8.1.1
//     packs eight pixels a byte, the first pixel in the least significant
//     bit. The loader's WADO-URI path unpacks them (unpackBinaryFrame); its
//     WADO-RS path hands the packed bytes to the renderer as if each were a
//     pixel. Unpacked to one byte a pixel, the loader's 1-bit branch reads
//     them as 8-bit values 0/1, exactly what its WADO-URI path does.
//   - uncompressed YBR_FULL_422 (PS3.3 C.7.6.3.1.2): two pixels share one
//     Cb, Cr pair, stored Y1 Y2 Cb Cr. The loader's 4:2:2 length test
//     expects the 4:2:0 size (15,000 bytes for 100×100) and so neither
//     expands nor converts the 20,000-byte frame. Converted here to RGB
//     (PS3.3 C.7.6.3.1.2's YBR_FULL equations), 3 bytes a pixel, which the
//     loader passes through as colour needing no conversion.
//
// Both are rewritten only when the part arrives in a native syntax: the
// JPEG decoders deliver YBR_FULL_422 as RGB already.
import type { DicomJSON } from '../../api/types';

const explicitLE = '1.2.840.10008.1.2.1';
const nativeSyntaxes = new Set(['1.2.840.10008.1.2', explicitLE, '1.2.840.10008.1.2.2']);

export type Rewrite = 'unpack-bits' | 'ybr422-rgb' | null;

// rewriteFor tells from an instance's metadata which rewrite its frames need.
export function rewriteFor(md: DicomJSON | undefined): Rewrite {
  const v = (t: string) => md?.[t]?.Value?.[0];
  if (Number(v('00280100')) === 1) return 'unpack-bits';
  if (String(v('00280004') ?? '').trim() === 'YBR_FULL_422' && Number(v('00280100')) === 8) return 'ybr422-rgb';
  return null;
}

// unpackBits expands a 1-bit frame to one byte (0 or 1) a pixel.
export function unpackBits(src: Uint8Array, pixels: number): Uint8Array {
  const out = new Uint8Array(pixels);
  for (let i = 0; i < pixels; i++) out[i] = (src[i >> 3] >> (i & 7)) & 1;
  return out;
}

// ybr422ToRGB converts Y1 Y2 Cb Cr pairs (8 bits, full range) to RGB.
export function ybr422ToRGB(src: Uint8Array, pixels: number): Uint8Array {
  const out = new Uint8Array(pixels * 3);
  const c = (x: number) => Math.round(Math.max(0, Math.min(255, x)));
  for (let p = 0, s = 0; p < pixels; p += 2, s += 4) {
    const cb = src[s + 2] - 128;
    const cr = src[s + 3] - 128;
    for (let k = 0; k < 2 && p + k < pixels; k++) {
      const y = src[s + k];
      out[(p + k) * 3] = c(y + 1.402 * cr);
      out[(p + k) * 3 + 1] = c(y - 0.344136 * cb - 0.714136 * cr);
      out[(p + k) * 3 + 2] = c(y + 1.772 * cb);
    }
  }
  return out;
}

// swapWords undoes a big-endian OW's byte order (PS3.5 7.3) for 1-bit
// data, whose bits count from the least significant bit of each word.
function swapWords(src: Uint8Array): Uint8Array {
  const out = src.slice();
  for (let i = 0; i + 1 < out.length; i += 2) [out[i], out[i + 1]] = [src[i + 1], src[i]];
  return out;
}

const latin1 = (b: Uint8Array) => String.fromCharCode(...b);
const ascii = (s: string) => Uint8Array.from(s, (ch) => ch.charCodeAt(0));

// rewriteFrame rewrites a single-part multipart/related frame response
// (PS3.18 8.7.3.5.2) for the loader: the converted frame, its part named
// Explicit VR Little Endian. Anything else comes back as it was.
export function rewriteFrame(body: ArrayBuffer, md: DicomJSON | undefined): ArrayBuffer {
  const how = rewriteFor(md);
  if (!how) return body;
  const bytes = new Uint8Array(body);
  const head = bytes.subarray(0, Math.min(bytes.length, 1024));
  const headText = latin1(head);
  const end = headText.indexOf('\r\n\r\n');
  if (!headText.startsWith('--') || end < 0) return body;
  const boundary = headText.slice(0, headText.indexOf('\r\n'));
  const ts = /transfer-syntax="?([0-9.]+)/i.exec(headText.slice(0, end))?.[1] ?? '1.2.840.10008.1.2';
  if (!nativeSyntaxes.has(ts)) return body;
  const start = end + 4;
  const tail = ascii(`\r\n${boundary}`);
  let stop = bytes.length - tail.length;
  for (; stop >= start; stop--) {
    if (tail.every((b, k) => bytes[stop + k] === b)) break;
  }
  if (stop < start) return body;
  let frame: Uint8Array = bytes.subarray(start, stop);
  const num = (t: string) => Number(md?.[t]?.Value?.[0]) || 0;
  const pixels = num('00280010') * num('00280011');
  if (how === 'unpack-bits') {
    if (ts === '1.2.840.10008.1.2.2' && md?.['7FE00010']?.vr === 'OW') frame = swapWords(frame);
    if (frame.length * 8 < pixels) return body;
    frame = unpackBits(frame, pixels);
  } else {
    if (frame.length < pixels * 2) return body;
    frame = ybr422ToRGB(frame, pixels);
  }
  const pre = ascii(`${boundary}\r\nContent-Type: application/octet-stream; transfer-syntax=${explicitLE}\r\n\r\n`);
  const post = ascii(`\r\n${boundary}--\r\n`);
  const out = new Uint8Array(pre.length + frame.length + post.length);
  out.set(pre);
  out.set(frame, pre.length);
  out.set(post, pre.length + frame.length);
  return out.buffer;
}
