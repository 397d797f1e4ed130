import { describe, expect, it } from 'vitest';
import type { PatientAccess } from '../../api/types';
import { accessHeader, accessRow, grantHeader, grantRow } from './rows';

const base: PatientAccess = {
  seq: 7, time: '2026-12-07T05:01:02.345Z', user: 'dr.a', role: 'radiologist', from: '10.1.2.3', via: 'http', event: '110103',
  event_name: 'DICOM Instances Accessed', action: 'R', outcome: 0, object_type: 'study', study_uids: ['1.2.3'], detail: '', facility_id: 'SGH',
};

describe('accessRow', () => {
  it.each([
    ['a study opened over HTTP', base, ['2026-12-07 05:01:02', 'dr.a', 'radiologist', 'DICOM Instances Accessed · Read', '10.1.2.3 · http', 'study 1.2.3', 'Success', '']],
    ['a refused DICOM retrieve from a peer', { ...base, via: 'dicom', peer: 'SGH_CT1', action: 'E', outcome: 8, event: '110104', event_name: 'DICOM Instances Transferred', detail: 'C-MOVE' } as PatientAccess,
      ['2026-12-07 05:01:02', 'dr.a', 'radiologist', 'DICOM Instances Transferred · Execute', '10.1.2.3 · dicom · SGH_CT1', 'study 1.2.3', 'Serious failure', 'C-MOVE']],
    ['the node itself, no address', { ...base, from: '', via: '', study_uids: [], object_type: 'report', time: '2026-12-07T05:01:02Z' } as PatientAccess,
      ['2026-12-07 05:01:02', 'dr.a', 'radiologist', 'DICOM Instances Accessed · Read', '—', 'report', 'Success', '']],
  ])('%s', (_, a, want) => {
    expect(accessRow(a)).toEqual(want);
    expect(want).toHaveLength(accessHeader.length);
  });
});

describe('grantRow', () => {
  it('shows the reason beside who, where and how long', () => {
    const row = grantRow({ id: 3, username: 'dr.hbi', study_uid: '1.2.3', facility_id: 'SGH', reason: 'trauma call, on-site reader unreachable',
      created_at: '2026-12-07T05:00:00.000Z', expires_at: '2026-12-07T06:00:00.000Z' });
    expect(row).toEqual(['2026-12-07 05:00:00', '2026-12-07 06:00:00', 'dr.hbi', 'SGH', '1.2.3', 'trauma call, on-site reader unreachable']);
    expect(row).toHaveLength(grantHeader.length);
  });
});
