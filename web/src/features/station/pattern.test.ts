import { describe, expect, it } from 'vitest';
import { grey, stepLevels } from './pattern';

describe('test pattern levels', () => {
  it('steps run from black to white evenly', () => {
    const l = stepLevels();
    expect(l).toHaveLength(18);
    expect(l[0]).toBe(0);
    expect(l[17]).toBe(1);
    expect(grey(l[0])).toBe('rgb(0,0,0)');
    expect(grey(l[17])).toBe('rgb(255,255,255)');
  });
  it('draws the 5 % and 95 % patches as distinct greys', () => {
    expect(grey(0.05)).toBe('rgb(13,13,13)');
    expect(grey(0.95)).toBe('rgb(242,242,242)');
    expect(grey(-1)).toBe('rgb(0,0,0)');
  });
});
