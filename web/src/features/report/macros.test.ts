import { describe, expect, it } from 'vitest';
import { expandAt } from './macros';

const macros = { noacute: 'No acute intracranial abnormality.', 'ich-small': 'Small haemorrhage.' };

describe('expandAt', () => {
  it.each([
    ['.noacute', 8, 'No acute intracranial abnormality.', 34],
    ['Head: .noacute', 14, 'Head: No acute intracranial abnormality.', 40],
    ['.NoAcute and more', 8, 'No acute intracranial abnormality. and more', 34],
    ['x\n.ich-small', 12, 'x\nSmall haemorrhage.', 20],
  ])('%j at %i', (text, cursor, want, wantCursor) => {
    expect(expandAt(text, cursor, macros)).toEqual({ text: want, cursor: wantCursor });
  });
  it.each([
    ['.unknown', 8],
    ['e.noacute', 9], // not at a word start
    ['noacute', 7], // no dot
    ['.', 1],
    ['.noacute', 3], // cursor inside the name: only a prefix
  ])('leaves %j alone', (text, cursor) => {
    expect(expandAt(text, cursor, macros)).toBeNull();
  });
});
