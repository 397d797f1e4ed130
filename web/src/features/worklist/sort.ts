import type { WorkItem } from '../../api/types';

export type SortKey = 'queue' | 'deadline' | 'priority' | 'rvu';
export interface Filter {
  modality: string;
  priority: string;
  text: string;
}

const priorityRank: Record<string, number> = { stat: 0, asap: 1, routine: 2 };

// view filters and sorts; 'queue' keeps the engine's reading order.
export function view(items: WorkItem[], f: Filter, sort: SortKey): WorkItem[] {
  const text = f.text.trim().toLowerCase();
  const out = items.filter(
    (it) =>
      (!f.modality || it.modality === f.modality) &&
      (!f.priority || it.priority.toLowerCase() === f.priority) &&
      (!text || `${it.patient_name} ${it.description} ${it.accession} ${it.facility_id}`.toLowerCase().includes(text)),
  );
  const dl = (it: WorkItem) => (it.deadline ? Date.parse(it.deadline) : Infinity);
  switch (sort) {
    case 'deadline':
      return out.sort((a, b) => dl(a) - dl(b));
    case 'priority':
      return out.sort((a, b) => (priorityRank[a.priority.toLowerCase()] ?? 9) - (priorityRank[b.priority.toLowerCase()] ?? 9) || dl(a) - dl(b));
    case 'rvu':
      return out.sort((a, b) => b.work_rvu - a.work_rvu);
    default:
      return out;
  }
}

// nextCase is the most urgent case: the engine's first in reading order,
// or, without one, the earliest deadline.
export function nextCase(items: WorkItem[]): WorkItem | undefined {
  return items[0];
}

export function state(it: WorkItem): string {
  if (it.status === 'leased') return it.opened ? 'opened' : 'assigned';
  return it.status;
}

export function person(name: string): string {
  return name.replace(/\^+/g, ', ').replace(/,\s*$/, '');
}
