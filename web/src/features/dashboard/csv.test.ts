import { describe, expect, it } from 'vitest';
import { daysBefore, toCSV } from './csv';

describe('toCSV', () => {
  it.each([
    [['a', 'b'], [[1, 'x']], 'a,b\r\n1,x\r\n'],
    [['name'], [['Smith, J']], 'name\r\n"Smith, J"\r\n'],
    [['q'], [['say "hi"']], 'q\r\n"say ""hi"""\r\n'],
    [['n'], [['two\nlines']], 'n\r\n"two\nlines"\r\n'],
  ])('%j %j', (h, rows, want) => {
    expect(toCSV(h as string[], rows as (string | number)[][])).toBe(want);
  });
  it('days before', () => {
    expect(daysBefore(1, Date.UTC(2026, 0, 1, 5))).toBe('2025-12-31');
  });
});
