// Shapes of the Lightbox JSON API (internal/auth, internal/api,
// internal/report/api.go, internal/critical/http.go) as the app uses them.

export type Role = 'admin' | 'coordinator' | 'radiologist' | 'technologist' | 'clinician' | 'integration';

export interface Principal {
  username: string;
  role: Role;
  facilities: string[];
  all_facilities: boolean;
}

export interface SessionInfo {
  principal: Principal;
  csrf_token: string;
  expires_in: number;
  absolute_expires_in: number;
  idle_timeout: number;
  reauth_valid_for: number;
}

export interface Enrolment {
  secret: string;
  url: string;
}

export interface WorkItem {
  study_uid: string;
  facility_id: string;
  status: string;
  reader_id?: string;
  note?: string;
  priority: string;
  class: string;
  modality: string;
  cpt?: string;
  work_rvu: number;
  triage?: string[];
  deadline?: string;
  accession: string;
  patient_name: string;
  patient_id: string;
  description: string;
  updated_at: string;
  patient_sex: string;
  birth_date: string;
  priors: number;
  opened: boolean;
}

export interface WorklistResponse {
  reader?: string;
  board?: boolean;
  items: WorkItem[];
}

export interface Facility {
  id: string;
  name: string;
  state: string;
  time_zone: string;
}

export interface Change {
  kind: string;
  study_uid?: string;
  reader_id?: string;
  code?: string;
  reason?: string;
  at: string;
}

export interface Option {
  value: string;
  label: string;
}

export interface Field {
  id: string;
  label: string;
  required?: boolean;
  options?: Option[];
}

export interface Content {
  template_id?: string;
  clinical_history?: string;
  technique?: string;
  comparison?: string;
  findings?: string;
  impression?: string;
  fields?: Record<string, string>;
}

export interface Template {
  id: string;
  name: string;
  modalities?: string[];
  cpt?: string[];
  mammography?: boolean;
  normal: Content;
  fields?: Field[];
}

export interface Macro {
  name: string;
  body: string;
  owner: string;
}

export interface Signer {
  reader_id: string;
  display?: string;
}

export interface Version {
  seq: number;
  kind: 'draft' | 'prelim' | 'final' | 'addendum' | 'correction';
  author: string;
  content: Content;
  text?: string;
  reason?: string;
  signed_at?: string;
  signer?: Signer;
  work_rvu?: number;
  created_at: string;
}

export interface Report {
  id: string;
  study_uid: string;
  facility_id: string;
  accession: string;
  status: string;
  base?: Version;
  addenda?: Version[];
  draft?: Version;
}

export interface ReportView {
  report: Report;
  versions: Version[];
}

export interface Contact {
  id: string;
  facility_id: string;
  name: string;
  role?: string;
  phones?: string[];
}

export interface CriticalResult {
  id: string;
  facility_id: string;
  study_uid: string;
  category: string;
  category_label?: string;
  state: string;
  finding: { text: string };
  identified_at: string;
  deadline_at: string;
  overdue: boolean;
  next_due_at?: string;
  communicator: string;
  read_back: boolean;
  recipient?: { name?: string };
  attempts?: { at: string; recorded_at: string; method: string; outcome: string; read_back?: boolean; to?: { name: string } }[];
}

// One open loop as the critical-results board lists it.
export interface CriticalBoardItem {
  id: string;
  facility_id: string;
  study_uid: string;
  category: string;
  finding: string;
  state: string;
  deadline_at: string;
  seconds_left: number;
  overdue: boolean;
}

export interface Preferences {
  keys: Record<string, string>;
  break_minutes: number;
  // Hanging protocol per modality or "MODALITY BODYPART" (internal/station).
  hanging?: Record<string, string>;
}

// DICOM JSON (PS3.18 Annex F): a tag's value list.
export type DicomJSON = Record<string, { vr: string; Value?: unknown[] }>;

export interface StationCheck {
  kind: 'display' | 'connection';
  passed: boolean;
  screen_width?: number;
  screen_height?: number;
  pixel_ratio?: number;
  seen?: Record<string, boolean>;
  latency_ms?: number;
  mbit_per_s?: number;
  at?: string;
}

// Bulk set-up (internal/setup): the outcome of an import.
export interface Rejected {
  row: number; // CSV line (the header is line 1) or 1-based JSON index
  id?: string;
  code: string;
  field?: string;
  reason: string;
}

export interface ImportReport {
  kind: string;
  rows: number;
  accepted: number;
  rejected: Rejected[];
}

// Coverage gap map (internal/coverage).
export interface CoverageGap {
  facility_id: string;
  modality: string;
  from: string;
  to: string;
  missing: string;
  closest?: string[];
}

export interface CoverageRow {
  facility_id: string;
  name: string;
  state: string;
  time_zone: string;
  modality: string;
  covered: boolean[];
  gaps: CoverageGap[];
}

export interface CoverageMap {
  from: string;
  hours: number;
  rows: CoverageRow[];
}
