// The audit screen's table: one row per access, the same cells on screen
// and in the CSV export.
import type { BreakGlassGrant, PatientAccess } from '../../api/types';

export const accessHeader = ['When (UTC)', 'User', 'Role', 'Action', 'From', 'What', 'Outcome', 'Detail'];

// ATNA EventActionCode and EventOutcomeIndicator (DICOM PS3.15 A.5.1).
const actions: Record<string, string> = { C: 'Create', R: 'Read', U: 'Update', D: 'Delete', E: 'Execute' };
const outcomes: Record<number, string> = { 0: 'Success', 4: 'Minor failure', 8: 'Serious failure', 12: 'Major failure' };

const utc = (t: string) => t.replace('T', ' ').replace(/\.\d+Z$|Z$/, '');

export function accessRow(a: PatientAccess): string[] {
  const when = utc(a.time);
  const action = [a.event_name || a.event, actions[a.action] ?? a.action].join(' · ');
  const from = [a.from || '—', a.via, a.peer].filter(Boolean).join(' · ');
  const what = [a.object_type, ...a.study_uids].filter(Boolean).join(' ');
  return [when, a.user, a.role, action, from, what, outcomes[a.outcome] ?? String(a.outcome), a.detail];
}

export const grantHeader = ['Opened (UTC)', 'Expires (UTC)', 'Reader', 'Facility', 'Study', 'Reason'];

export function grantRow(g: BreakGlassGrant): string[] {
  return [utc(g.created_at), utc(g.expires_at), g.username, g.facility_id, g.study_uid, g.reason];
}
