import { describe, expect, it } from 'vitest';
import type { DicomJSON } from '../../api/types';
import { nearest, normalOf, position, sortInstances, withKnownVRs } from './stack';
import { centerWidth, presetsFor, voiRange } from './presets';

const axial = [1, 0, 0, 0, 1, 0];
const slice = (n: number, z: number | null): DicomJSON => ({
  '00200013': { vr: 'IS', Value: [n] },
  ...(z === null ? {} : { '00200032': { vr: 'DS', Value: [0, 0, z] }, '00200037': { vr: 'DS', Value: axial } }),
});

describe('stack', () => {
  it('axial normal is +z', () => expect(normalOf(axial)).toEqual([0, 0, 1]));
  it('coronal normal', () => expect(normalOf([1, 0, 0, 0, 0, -1])?.map((v) => v + 0)).toEqual([0, 1, 0]));
  it('position projects on the normal', () => expect(position(slice(1, -12.5))).toBe(-12.5));
  it.each([
    { name: 'by position, head first', in: [slice(1, 0), slice(2, 10), slice(3, 5)], want: [2, 3, 1] },
    { name: 'by instance number without positions', in: [slice(3, null), slice(1, null), slice(2, null)], want: [1, 2, 3] },
    { name: 'mixed falls back to instance number', in: [slice(2, 5), slice(1, null)], want: [1, 2] },
  ])('sorts $name', (c) => {
    expect(sortInstances(c.in).map((d) => d['00200013'].Value?.[0])).toEqual(c.want);
  });
  it.each([
    { ps: [10, 5, 0], p: 6, want: 1 },
    { ps: [10, 5, 0], p: 100, want: 0 },
    { ps: [10, 5, 0], p: 2.5, want: 1 },
    { ps: [], p: 1, want: -1 },
    { ps: [NaN], p: 1, want: -1 },
  ])('nearest($ps, $p) = $want', (c) => expect(nearest(c.ps, c.p)).toBe(c.want));
});

describe('presets', () => {
  it('CT has the reading presets', () => expect(presetsFor('CT').map((p) => p.name)).toEqual(
    ['Brain', 'Subdural', 'Stroke', 'Lung', 'Mediastinum', 'Bone', 'Abdomen', 'Liver']));
  it('MR has none', () => expect(presetsFor('MR')).toEqual([]));
  it('range round-trips', () => expect(centerWidth(voiRange(40, 80))).toEqual({ center: 40, width: 80 }));
  it('width at least 1', () => expect(voiRange(0, 0)).toEqual({ lower: -0.5, upper: 0.5 }));
});

describe('withKnownVRs', () => {
  const un = (text: string) => ({ vr: 'UN', InlineBinary: btoa(text) });
  it('decodes UN text attributes by their dictionary VR', () => {
    const got = withKnownVRs({ '00080018': un('1.2.3\0'), '00200032': un('1.5\\2\\-3 '), '00280010': { vr: 'US', Value: [10] } });
    expect(got['00080018']).toEqual({ vr: 'UI', Value: ['1.2.3'] });
    expect(got['00200032']).toEqual({ vr: 'DS', Value: [1.5, 2, -3] });
    expect(got['00280010']).toEqual({ vr: 'US', Value: [10] });
  });
  it('leaves other UN values and clean instances alone', () => {
    const inst = { '00091001': un('x'), '00080018': { vr: 'UI', Value: ['1.2'] } };
    expect(withKnownVRs(inst)).toBe(inst);
  });
});
