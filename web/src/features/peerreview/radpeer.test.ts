import { describe, expect, it } from 'vitest';
import { goesToArbitration, needsComment, percent, SCORES } from './radpeer';

describe('radpeer', () => {
  it('lists the five scores in order', () => {
    expect(SCORES.map((s) => s.score)).toEqual(['1', '2a', '2b', '3a', '3b']);
  });
  it('sends 2b and above to arbitration, and asks a comment for any discrepancy', () => {
    expect(['1', '2a', '2b', '3a', '3b'].map((s) => goesToArbitration(s as never))).toEqual([false, false, true, true, true]);
    expect(needsComment('1')).toBe(false);
    expect(needsComment('2a')).toBe(true);
  });
  it('formats rates', () => {
    expect(percent(0.125)).toBe('13 %');
  });
});
