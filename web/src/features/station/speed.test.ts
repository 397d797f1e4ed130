import { describe, expect, it } from 'vitest';
import { mbitPerS, secondsFor, slowSeconds, typicalMB } from './speed';

describe('connection arithmetic', () => {
  it('measures throughput', () => {
    expect(mbitPerS(12_500_000, 1000)).toBe(100);
    expect(mbitPerS(1, 0)).toBe(0);
  });
  it('warns when a typical CT takes longer than 10 s', () => {
    expect(secondsFor(typicalMB.CT, 1000, 5)).toBeLessThan(slowSeconds); // gigabit: 1.2 s
    expect(secondsFor(typicalMB.CT, 50, 40)).toBeGreaterThan(slowSeconds); // 50 Mbit/s: 24 s
    expect(secondsFor(10, 0, 0)).toBe(Infinity);
  });
});
