import { describe, expect, it } from 'vitest';
import { fromLocalInput, list, localInput } from './time';

describe('tumor board form helpers', () => {
  it('round-trips a local input value', () => {
    const iso = '2026-12-08T16:00:00.000Z';
    expect(fromLocalInput(localInput(iso))).toBe(iso);
  });
  it('splits lists', () => {
    expect(list(' oncology, , surgery ')).toEqual(['oncology', 'surgery']);
  });
});
