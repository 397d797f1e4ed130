import { describe, expect, it } from 'vitest';
import type { WorkItem } from '../../api/types';
import { person, state, view } from './sort';

const item = (o: Partial<WorkItem>): WorkItem =>
  ({ study_uid: '1', facility_id: 'F', status: 'leased', priority: 'routine', class: '', modality: 'CT', work_rvu: 1, accession: '',
    patient_name: '', patient_id: '', description: '', updated_at: '', patient_sex: '', birth_date: '', priors: 0, opened: false, ...o }) as WorkItem;

describe('view', () => {
  const items = [
    item({ study_uid: 'a', priority: 'routine', deadline: '2026-01-01T10:00:00Z', work_rvu: 2, modality: 'MR' }),
    item({ study_uid: 'b', priority: 'STAT', deadline: '2026-01-01T11:00:00Z', work_rvu: 1 }),
    item({ study_uid: 'c', priority: 'routine', deadline: '2026-01-01T09:00:00Z', work_rvu: 3, description: 'CT head' }),
  ];
  it.each([
    ['queue', ['a', 'b', 'c']],
    ['deadline', ['c', 'a', 'b']],
    ['priority', ['b', 'c', 'a']],
    ['rvu', ['c', 'a', 'b']],
  ] as const)('sorts by %s', (k, want) => expect(view(items, { modality: '', priority: '', text: '' }, k).map((i) => i.study_uid)).toEqual(want));
  it('filters', () => {
    expect(view(items, { modality: 'CT', priority: '', text: 'head' }, 'queue').map((i) => i.study_uid)).toEqual(['c']);
    expect(view(items, { modality: '', priority: 'stat', text: '' }, 'queue').map((i) => i.study_uid)).toEqual(['b']);
  });
});

describe('labels', () => {
  it('names states and people', () => {
    expect(state(item({ opened: true }))).toBe('opened');
    expect(state(item({}))).toBe('assigned');
    expect(person('DOE^JANE^^')).toBe('DOE, JANE');
  });
});
