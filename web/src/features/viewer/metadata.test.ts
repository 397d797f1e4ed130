import { describe, expect, it } from 'vitest';
import { mergeShared } from './metadata';

describe('mergeShared', () => {
  it('gives each instance the shared attributes and its own, its own winning', () => {
    const shared = { '00280010': { vr: 'US', Value: [512] }, '00080060': { vr: 'CS', Value: ['CT'] } };
    const md = mergeShared({
      shared,
      instances: [
        { '00080018': { vr: 'UI', Value: ['1.2.3'] } },
        { '00080018': { vr: 'UI', Value: ['1.2.4'] }, '00080060': { vr: 'CS', Value: ['OT'] } },
      ],
    });
    expect(md).toEqual([
      { ...shared, '00080018': { vr: 'UI', Value: ['1.2.3'] } },
      { '00280010': shared['00280010'], '00080018': { vr: 'UI', Value: ['1.2.4'] }, '00080060': { vr: 'CS', Value: ['OT'] } },
    ]);
    expect(md[0]).not.toBe(md[1]);
    expect(shared).not.toHaveProperty('00080018');
  });
});
