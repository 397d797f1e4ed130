import { describe, expect, it } from 'vitest';
import { actionFor, comboOf, conflicts, defaultKeys, normalise, resolve } from './keymap';

describe('comboOf', () => {
  it.each([
    [{ key: 'f', ctrlKey: true, shiftKey: true }, 'Ctrl+Shift+F'],
    [{ key: 'F3' }, 'F3'],
    [{ key: 'F3', shiftKey: true }, 'Shift+F3'],
    [{ key: ' ', altKey: true }, 'Alt+Space'],
    [{ key: 'Shift', shiftKey: true }, ''],
  ])('%j', (e, want) => expect(comboOf(e)).toBe(want));
});

describe('normalise', () => {
  it.each([
    ['shift+ctrl+f', 'Ctrl+Shift+F'],
    ['F9', 'F9'],
    ['control + alt + pagedown', 'Ctrl+Alt+Pagedown'],
    ['', ''],
  ])('%j', (c, want) => expect(normalise(c)).toBe(want));
});

describe('resolve and actionFor', () => {
  it('uses the reader map over the defaults', () => {
    const keys = resolve({ signFinal: 'F10', bogus: 'F1' } as never);
    expect(keys.signFinal).toBe('F10');
    expect(keys.nextCase).toBe(defaultKeys.nextCase);
    expect(actionFor(keys, { key: 'F10' })).toBe('signFinal');
    expect(actionFor(keys, { key: 'n', ctrlKey: true, shiftKey: true })).toBe('nextCase');
    expect(actionFor(keys, { key: 'x' })).toBeNull();
  });
  it('reports a key bound twice', () => {
    expect(conflicts(resolve({}))).toEqual([]);
    expect(conflicts(resolve({ release: 'F3' }))).toEqual(['F3']);
  });
});
