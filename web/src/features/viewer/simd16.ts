// A 16-bit frame's integer rescale (stored value + intercept, slope 1: most
// CT) and range in WebAssembly SIMD, eight values an instruction, for
// native.ts in the series retrieve's reading workers. The same loop in
// JavaScript took 1–2 ms a 512×512 frame on the bench machine (1.4 s of the
// 1.8 s sampled in the worker making 1,000 slices ready, bench/viewer); this takes ≈ 0.1
// ms with the copies in and out of the module's memory. The module is a
// few hundred bytes, assembled here rather than shipped as a file (no
// fetch, no build step; the CSP allows 'wasm-unsafe-eval' for the
// loader's decoders already). Where WebAssembly or its SIMD is missing,
// add16 returns null and the caller takes its JavaScript loop.
// No Cornerstone import: the worker loads this.

const leb = (n: number) => {
  const out: number[] = [];
  do {
    let b = n & 0x7f;
    n >>>= 7;
    if (n) b |= 0x80;
    out.push(b);
  } while (n);
  return out;
};
const section = (id: number, body: number[]) => [id, ...leb(body.length), ...body];
const simd = (op: number) => [0xfd, ...leb(op)];
const name = (s: string) => [s.length, ...[...s].map((c) => c.charCodeAt(0))];
const [localGet, localSet, localTee, i32Const] = [0x20, 0x21, 0x22, 0x41];
const [v128Load, v128Store, i16x8Splat, i16x8Add] = [0x00, 0x0b, 0x10, 0x8e];
const memarg = [4, 0]; // 16-byte alignment, offset 0

// body is func (p, end, k): for each 8 values at p up to end, the lanes'
// smallest and largest (before the add) kept, then the values + k stored
// back; the lanes' minima at 0 and maxima at 16. min/max: the signed or
// unsigned i16x8 opcodes. Locals: 3 k splatted, 4 minima, 5 maxima, 6 v.
function body(min: number, max: number) {
  const code = [
    localGet, 2, ...simd(i16x8Splat), localSet, 3,
    localGet, 0, ...simd(v128Load), ...memarg, localTee, 4, localSet, 5,
    0x03, 0x40, // loop
    localGet, 0, ...simd(v128Load), ...memarg, localSet, 6,
    localGet, 4, localGet, 6, ...simd(min), localSet, 4,
    localGet, 5, localGet, 6, ...simd(max), localSet, 5,
    localGet, 0, localGet, 6, localGet, 3, ...simd(i16x8Add), ...simd(v128Store), ...memarg,
    localGet, 0, i32Const, 16, 0x6a, localTee, 0, // p += 16
    localGet, 1, 0x49, 0x0d, 0, // br_if p < end (unsigned)
    0x0b, // end loop
    i32Const, 0, localGet, 4, ...simd(v128Store), ...memarg,
    i32Const, 16, localGet, 5, ...simd(v128Store), ...memarg,
    0x0b,
  ];
  const f = [1, 4, 0x7b, ...code]; // 4 v128 locals
  return [...leb(f.length), ...f];
}

function moduleBytes() {
  return new Uint8Array([
    0x00, 0x61, 0x73, 0x6d, 1, 0, 0, 0,
    ...section(1, [1, 0x60, 3, 0x7f, 0x7f, 0x7f, 0]), // type: (i32, i32, i32) → ()
    ...section(3, [2, 0, 0]), // two functions of that type
    ...section(5, [1, 0, 2]), // memory: 2 pages (the lanes, then a chunk)
    ...section(7, [3, ...name('m'), 2, 0, ...name('s'), 0, 0, ...name('u'), 0, 1]),
    ...section(10, [2, ...body(0x96, 0x98), ...body(0x97, 0x99)]), // i16x8.min_s/max_s, min_u/max_u
  ]);
}

type AddFn = (p: number, end: number, k: number) => void;
let mod: { mem: WebAssembly.Memory; signed: AddFn; unsigned: AddFn } | null | undefined;

function instance() {
  if (mod !== undefined) return mod;
  try {
    const x = new WebAssembly.Instance(new WebAssembly.Module(moduleBytes())).exports;
    mod = { mem: x.m as WebAssembly.Memory, signed: x.s as AddFn, unsigned: x.u as AddFn };
  } catch {
    mod = null; // no WebAssembly, or no SIMD
  }
  return mod;
}

// Values go through the module's memory in chunks that stay in the core's
// cache between the copy in, the loop and the copy out.
const lanesAt = 0;
const chunkAt = 32;
const chunk = 64 << 10;

// add16 adds k to every value of a in place (wrapping to 16 bits, as a
// store into a 16-bit typed array does) and returns a's range before the
// add, by a's signedness; null without WebAssembly SIMD.
export function add16(a: Int16Array | Uint16Array, k: number): { min: number; max: number } | null {
  const m = instance();
  if (!m || !a.length) return m && { min: 0, max: 0 };
  const signed = a instanceof Int16Array;
  const add = signed ? m.signed : m.unsigned;
  const n = a.length & ~7;
  const all = new Uint8Array(a.buffer, a.byteOffset, n * 2);
  const work = new Uint8Array(m.mem.buffer, chunkAt, chunk);
  const lanes = signed ? new Int16Array(m.mem.buffer, lanesAt, 16) : new Uint16Array(m.mem.buffer, lanesAt, 16);
  let min = n ? Infinity : a[0];
  let max = n ? -Infinity : a[0];
  for (let at = 0; at < all.length; at += chunk) {
    const part = all.subarray(at, at + chunk);
    work.set(part);
    add(chunkAt, chunkAt + part.length, k | 0);
    part.set(work.subarray(0, part.length));
    for (let i = 0; i < 8; i++) {
      min = lanes[i] < min ? lanes[i] : min;
      max = lanes[8 + i] > max ? lanes[8 + i] : max;
    }
  }
  for (let i = n; i < a.length; i++) {
    const v = a[i];
    a[i] = v + k;
    min = v < min ? v : min;
    max = v > max ? v : max;
  }
  return { min, max };
}
