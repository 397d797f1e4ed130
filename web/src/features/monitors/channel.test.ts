import { describe, expect, it } from 'vitest';
import { placements } from './channel';

const s = (left: number, label: string) => ({ availLeft: left, availTop: 0, availWidth: 1920, availHeight: 1080, label });

describe('placements', () => {
  it('one window per other monitor', () => {
    const [a, b, c] = [s(0, 'Report'), s(1920, 'Left diagnostic'), s(3840, 'Right diagnostic')];
    expect(placements([a, b, c], a).map((p) => `${p.label}@${p.left}`)).toEqual(['Left diagnostic@1920', 'Right diagnostic@3840']);
  });
  it('a single monitor gets one window', () => {
    const a = s(0, '');
    expect(placements([a], a)).toEqual([{ left: 0, top: 0, width: 1920, height: 1080, label: 'Monitor 1' }]);
  });
});
