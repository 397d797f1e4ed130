import { describe, expect, it } from 'vitest';
import { add16 } from './simd16';

// The JavaScript loop add16 stands for (native.ts rescale, slope 1).
function plain(a: Int16Array | Uint16Array, k: number) {
  let min = a[0];
  let max = a[0];
  for (let i = 0; i < a.length; i++) {
    const v = a[i];
    a[i] = v + k;
    min = Math.min(min, v);
    max = Math.max(max, v);
  }
  return { min, max };
}

describe('add16', () => {
  // Lengths across the chunk size (32,768 values) and with tails of 1-7.
  for (const n of [1, 7, 8, 13, 32768, 3 * 32768 + 5]) {
    for (const T of [Int16Array, Uint16Array]) {
      it(`adds and ranges ${n} ${T.name} values as the loop does`, () => {
        const a = new T(n);
        let seed = n;
        for (let i = 0; i < n; i++) {
          seed = (seed * 1103515245 + 12345) >>> 0;
          a[i] = seed >>> 16;
        }
        const b = T.from(a);
        for (const k of [-1024, 0, 40000]) {
          expect(add16(a, k)).toEqual(plain(b, k));
          expect(a.findIndex((v, i) => v !== b[i])).toBe(-1);
        }
      });
    }
  }

  it('reads a view at an offset without touching its neighbours', () => {
    const buf = new Int16Array([9, 1, -2, 3, 4, 5, 6, 7, 8, 100, 9]);
    const r = add16(buf.subarray(1, 10), 10);
    expect(r).toEqual({ min: -2, max: 100 });
    expect([...buf]).toEqual([9, 11, 8, 13, 14, 15, 16, 17, 18, 110, 9]);
  });
});
