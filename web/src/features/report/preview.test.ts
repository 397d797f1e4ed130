import { describe, expect, it } from 'vitest';
import type { Template } from '../../api/types';
import { preview } from './preview';

const mammo: Template = {
  id: 'mammo-screen',
  name: 'Screening mammography (BI-RADS)',
  mammography: true,
  normal: {},
  fields: [
    { id: 'birads', label: 'BI-RADS assessment category', required: true, options: [{ value: '1', label: '1 - Negative' }] },
    { id: 'density', label: 'Breast density', options: [{ value: 'b', label: 'Scattered fibroglandular density' }] },
  ],
};

describe('preview', () => {
  it('lays out the sections in report order and skips empty ones', () => {
    expect(preview({ impression: 'Normal.', findings: 'Clear lungs. ', technique: '' })).toBe('FINDINGS:\nClear lungs.\n\nIMPRESSION:\nNormal.\n');
  });
  it('names structured fields by their labels (BI-RADS)', () => {
    const p = preview({ findings: 'No mass.', fields: { birads: '1', density: 'b' }, impression: 'Negative.' }, mammo);
    expect(p).toContain('BI-RADS assessment category: 1 - Negative');
    expect(p).toContain('Breast density: Scattered fibroglandular density');
    expect(p.indexOf('BI-RADS')).toBeLessThan(p.indexOf('IMPRESSION'));
  });
});
