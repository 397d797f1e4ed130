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
  // The viewer's image cache in MiB (0 or absent: 4096) and the prefetch
  // opt-out (features/viewer/cachepolicy.ts).
  cache_mb?: number;
  prefetch_off?: boolean;
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

// Quality and collaboration (internal/peerreview, internal/tumorboard,
// internal/irconsult, internal/teaching, internal/mentor).
export type RadpeerScore = '1' | '2a' | '2b' | '3a' | '3b';

export interface PeerPolicy {
  mode: 'percent' | 'count';
  value: number;
  hide_author: boolean;
  hide_reviewer: boolean;
}

export interface PeerReview {
  id: number;
  study_uid: string;
  facility_id: string;
  author: string;
  period: string;
  reviewer: string;
  status: 'assigned' | 'arbitration' | 'closed';
  score?: RadpeerScore;
  comment?: string;
  scored_at?: string;
  arbiter?: string;
  final_score?: RadpeerScore;
  arbiter_comment?: string;
  closed_at?: string;
  created_at: string;
}

export interface PeerRate {
  author: string;
  period: string;
  reviewed: number;
  discrepant: number;
  significant: number;
  rate: number;
}

export interface PeerDraw {
  month: string;
  finals: number;
  drawn: PeerReview[];
  unassigned: number;
}

export interface TumorBoard {
  id: number;
  title: string;
  starts_at: string;
  ends_at: string;
  disciplines: string[];
  participants: string[];
  created_by: string;
  created_at: string;
  cases: BoardCase[];
}

export interface BoardCase {
  id: number;
  board_id: number;
  study_uid: string;
  facility_id: string;
  presenter: string;
  notes: string;
  recommendation: string;
  updated_at: string;
}

export interface BoardGrant {
  id: number;
  board_id: number;
  username: string;
  study_uid: string;
  facility_id: string;
  created_at: string;
  expires_at: string;
}

export interface KeyImageRef {
  id: number;
  series_uid: string;
  sop_uid: string;
  frame: number;
  note: string;
  created_by: string;
}

export interface IRConsult {
  id: number;
  study_uid: string;
  facility_id: string;
  report_id?: string;
  source: 'report' | 'clinician';
  indication: string;
  question: string;
  urgency: 'emergent' | 'urgent' | 'routine';
  requester: string;
  consultant: string;
  region: string;
  status: 'requested' | 'accepted' | 'recommended' | 'closed';
  imaging_reviewed?: string;
  recommendation?: string;
  decision?: 'transfer' | 'local';
  receiving_centre?: string;
  requested_at: string;
  accepted_at?: string;
  recommended_at?: string;
  closed_at?: string;
}

export interface TeachingCase {
  id: number;
  study_uid: string;
  subspecialty: string;
  finding: string;
  note: string;
  modality: string;
  instances: number;
  burned_in_unknown: boolean;
  author: string;
  created_at: string;
}

export interface MentorPolicy {
  enabled: boolean;
  new_months: number;
  share_percent: number;
  stage: 'before' | 'after';
}

export interface OverRead {
  id: number;
  study_uid: string;
  author: string;
  mentor: string;
  stage: 'before' | 'after';
  status: 'open' | 'commented';
  comment?: string;
  created_at: string;
  commented_at?: string;
}

// Readers and the roster (internal/model, internal/setup, internal/api/console.go)
export interface Licence {
  state: string;
  number: string;
  type?: string;
  status: 'active' | 'inactive' | 'restricted';
  expires: string; // YYYY-MM-DD
  imlc?: boolean;
  verified_at?: string;
  source?: string;
}

export interface Privilege {
  facility: string;
  scope: { modalities?: string[]; body_regions?: string[]; mammography?: boolean; paediatrics?: boolean };
  basis: 'direct' | 'proxy';
  granted?: string;
  expires: string;
}

export interface Reader {
  id: string;
  name: string;
  subspecialties?: string[];
  modalities: string[];
  mqsa: { qualified: boolean; qualified_until?: string; last_24_months: number };
  workstation: '' | '3MP' | '5MP';
  location: { country: string; state?: string };
  time_zone: string;
  rvu_target_per_hour: number;
  licenses: Licence[];
  privileges: Privilege[];
  // the engine assigns nothing without telemedicine malpractice cover for
  // the patient's state, nor finals on Medicare facilities without enrolment
  malpractice?: Malpractice[];
  enrolments?: PayerEnrolment[];
  [other: string]: unknown; // kept as loaded and sent back on save
}

export interface DutyBlock {
  type: string;
  start: string;
  end: string;
}

export interface Absence {
  reason: string;
  start: string;
  end: string;
  with?: string;
}

export interface WeekReader {
  id: string;
  name: string;
  time_zone: string;
  subspecialties: string[];
  location: 'US' | 'offshore';
  duty: DutyBlock[];
  away: Absence[];
}

export interface Week {
  from: string;
  to: string;
  readers: WeekReader[];
}

export interface RosterChange {
  kind: 'extra' | 'vacation' | 'swap';
  reader_id: string;
  with?: string;
  type?: string;
  start: string;
  end: string;
}

export interface ExpiryAlert {
  reader_id: string;
  reader_name: string;
  kind: string;
  item: string;
  expires: string;
  days_left: number;
  offset: number;
  expired?: boolean;
}

// Dashboards (internal/stats, internal/simulate)
export interface Pct {
  n: number;
  p50: number;
  p90?: number;
  p95: number;
  p99?: number;
}

export interface ClassTAT {
  class: string;
  tat_minutes: Pct;
  sla_minutes: number;
  breaches: number;
  breach_pct: number;
}

export interface VolumeRow {
  hour: string;
  facility_id: string;
  class: string;
  studies: number;
}

export interface ReaderDay {
  reader_id: string;
  day: string;
  reads: number;
  rvu: number;
  hours_on_duty: number;
  rvu_per_hour: number;
  target_per_hour: number;
  hours_from?: 'roster' | 'activity';
}

export interface OwnView {
  reads: number;
  rvu: number;
  hours_on_duty: number;
  rvu_per_hour: number;
  target_per_hour: number;
  tat_p50_minutes: number;
  group_median_rvu_per_hour: number;
  group_median_tat_p50_minutes: number;
  group_readers: number;
  days: ReaderDay[];
}

export interface SimResult {
  studies: number;
  readers: number;
  readers_on_duty: number;
  read: number;
  uncovered: number;
  uncovered_examples?: string[];
  pending_at_end: number;
  sla_breach_pct: number;
  sla_breach_pct_by_priority: Record<string, number>;
  tat_minutes: Record<string, Pct>;
  tat_by_hour: { hour: number; studies: number; urgent_p50: number; urgent_p95: number; all_p50: number }[];
  utilisation: number;
}

export interface SimAhead {
  from: string;
  days: number;
  volume_from: string;
  result: SimResult;
}

// The coverage console beside the board (internal/api/console_board.go)
export interface ReaderLoad {
  reader_id: string;
  name: string;
  online: boolean;
  on_shift: boolean;
  away: boolean;
  queue: number;
  queue_rvu: number;
  shift_rvu: number;
  rvu_target_per_hour: number;
}

export interface CoverageConsole {
  readers: ReaderLoad[];
  could_cover: Record<string, string[]>;
}

// Reading room, second opinions, live sessions, clinic visits (features/collab).
export type RoomStatusValue = 'reading' | 'available' | 'away';

export interface RoomStatus {
  username: string;
  status: RoomStatusValue;
  visible: boolean;
  updated_at?: string;
}

export interface ChatMessage {
  id: number;
  author: string;
  body: string;
  created_at: string;
}

export interface RoomMember {
  username: string;
  name: string;
  subspecialties: string[];
  presence: 'online' | 'away' | 'offline';
  on_shift: boolean;
  status?: RoomStatusValue;
  since?: string;
}

export interface Room {
  me: RoomStatus;
  members: RoomMember[];
  messages: ChatMessage[];
}

export interface Consult {
  id: number;
  study_uid: string;
  facility_id: string;
  requester: string;
  consultant: string;
  subspecialty?: string;
  question: string;
  status: 'open' | 'answered';
  opinion?: string;
  opinion_at?: string;
  rvu_credit: number;
  created_at: string;
  expires_at: string;
}

export interface ConsultCandidate {
  reader_id: string;
  name?: string;
  reasons?: { code: string; reason: string }[];
}

export interface LiveEvent {
  kind: string;
  from: string;
  to?: string;
  data?: unknown;
}

export interface Visit {
  id: number;
  study_uid: string;
  physician: string;
  created_at: string;
  expires_at: string;
  joined_at?: string;
  patient_name?: string;
  consent: boolean;
  ended_at?: string;
}

// One access to a patient's records from the audit trail (POST
// /api/audit/patient, internal/api/audit.go; DICOM PS3.15 A.5 fields).
export interface PatientAccess {
  seq: number;
  time: string;
  user: string;
  role: string;
  from: string;
  via: string; // http, dicom, hl7, cli, '' (the node itself)
  peer?: string;
  event: string; // DICOM CID 400 code
  event_name: string;
  action: 'C' | 'R' | 'U' | 'D' | 'E';
  outcome: 0 | 4 | 8 | 12;
  object_type: string;
  study_uids: string[];
  detail: string;
  facility_id: string;
}

// A reader's emergency access to a study outside their scope
// (internal/breakglass.Grant).
export interface BreakGlassGrant {
  id: number;
  username: string;
  study_uid: string;
  facility_id: string;
  reason: string;
  created_at: string;
  expires_at: string;
}

export interface PatientAccessQuery {
  issuer: string;
  patient_id: string;
  since: string; // YYYY-MM-DD, inclusive
  until: string; // YYYY-MM-DD, inclusive
}

// internal/critical ComplianceRow: one facility × critical category.
export interface ComplianceRow {
  facility_id: string;
  category: string;
  category_label?: string;
  total: number;
  pending: number;
  closed: number;
  closed_on_time: number;
  communicated_on_time: number;
  overdue_open: number;
  percent_on_time: number;
  median_minutes_to_communication: number;
}

// internal/report DiscrepancyRate: finals over a prelim whose impression
// changed or that their signer flagged.
export interface DiscrepancyRate {
  facility_id: string;
  finals_over_prelim: number;
  discrepant: number;
  impression_changed: number;
  flagged: number;
  prelim_communicated: number;
  percent: number;
}

// internal/order Order (Go field names: the struct has no JSON tags).
export interface Order {
  ID: string;
  FacilityID: string;
  Accession: string;
  ProcedureCode: string;
  ProcedureText: string;
  Reason: string;
  Priority: string;
  Modality: string;
  Status: string;
  OrderedAt: string;
  CreatedAt: string;
}

export interface LibraryProtocol {
  code: string;
  text: string;
  modality?: string;
  contrast?: string;
}

// internal/order Unmatched: a study that did not reconcile to an order.
export interface Unmatched {
  ID: number;
  FacilityID: string;
  Accession: string;
  StudyUID: string;
  CandidateOrderID: string;
  Mismatches: string[] | null;
  Status: string;
  CreatedAt: string;
}

// internal/model Malpractice: one professional-liability policy.
export interface Malpractice {
  carrier: string;
  states: string[];
  telemedicine: boolean;
  expires: string;
}

// internal/model Enrolment: a payer enrolment (only Medicare gates finals).
export interface PayerEnrolment {
  payer: string;
  active: boolean;
  effective?: string;
  expires?: string;
}
