// The one typed client of the Lightbox API. It carries the session's CSRF
// token, reports the server's idle countdown (X-Session-Expires-In) to
// whoever listens, and turns a "reauth_required" answer into the
// re-authentication dialog and one retry.
import type {
  Change, Contact, Content, CoverageMap, CriticalBoardItem, CriticalResult, DicomJSON, Enrolment, Facility, ImportReport, Macro,
  Preferences, ReportView,
  ClassTAT, CoverageConsole, ExpiryAlert, OwnView, Reader, ReaderDay, RosterChange, SimAhead, VolumeRow, Week,
  SessionInfo, StationCheck, Template, Version, WorklistResponse,
} from './types';
import type {
  BoardCase, BoardGrant, IRConsult, KeyImageRef, MentorPolicy, OverRead, PeerDraw, PeerPolicy, PeerRate, PeerReview, RadpeerScore,
  TeachingCase, TumorBoard,
} from './types';
import type { ChatMessage, Consult, ConsultCandidate, LiveEvent, Room, RoomStatus, Visit } from './types';
import type { BreakGlassGrant, PatientAccess, PatientAccessQuery } from './types';
import type { ComplianceRow, DiscrepancyRate, LibraryProtocol, Order, Unmatched } from './types';

export class ApiError extends Error {
  status: number;
  code: string;
  body: Record<string, unknown>;
  constructor(status: number, body: Record<string, unknown>) {
    super(typeof body.error === 'string' ? body.error : `HTTP ${status}`);
    this.status = status;
    this.code = typeof body.code === 'string' ? body.code : '';
    this.body = body;
  }
}

type ReauthPrompt = () => Promise<boolean>;

let csrf = '';
let reauthPrompt: ReauthPrompt | null = null;
const expiryListeners = new Set<(seconds: number) => void>();
const unauthListeners = new Set<(idle: boolean) => void>();
// idleDeadline: when the server's idle countdown (X-Session-Expires-In)
// runs out. A 401 at or after it is the idle logoff, whichever request
// meets it first: a passive poll can reach the server a moment before the
// app's own countdown ends.
let idleDeadline = 0;

export function setCSRF(token: string) {
  csrf = token;
}

// onReauth installs the dialog asked to re-authenticate; it resolves true
// when the user did.
export function onReauth(p: ReauthPrompt | null) {
  reauthPrompt = p;
}

export function onExpiresIn(f: (seconds: number) => void) {
  expiryListeners.add(f);
  return () => {
    expiryListeners.delete(f);
  };
}

export function onUnauthenticated(f: (idle: boolean) => void) {
  unauthListeners.add(f);
  return () => {
    unauthListeners.delete(f);
  };
}

interface RequestOptions {
  passive?: boolean; // not user activity: the idle timer does not slide
  contentType?: string; // the body is sent as is (a string) with this type, not as JSON
  retried?: boolean;
}

async function request<T>(method: string, path: string, body?: unknown, o: RequestOptions = {}): Promise<T> {
  const headers: Record<string, string> = { Accept: 'application/json' };
  if (body !== undefined) headers['Content-Type'] = o.contentType ?? 'application/json';
  if (method !== 'GET' && csrf) headers['X-CSRF-Token'] = csrf;
  if (o.passive) headers['X-Session-Passive'] = '1';
  const res = await fetch(path, {
    method,
    headers,
    body: body === undefined ? undefined : o.contentType ? (body as string) : JSON.stringify(body),
    credentials: 'same-origin',
    cache: 'no-store',
  });
  const exp = res.headers.get('X-Session-Expires-In');
  if (exp !== null) {
    idleDeadline = Date.now() + Number(exp) * 1000;
    expiryListeners.forEach((f) => f(Number(exp)));
  }
  if (res.status === 204) return undefined as T;
  const ct = res.headers.get('Content-Type') ?? '';
  const data = ct.includes('json') ? await res.json() : await res.text();
  if (res.ok) return data as T;
  const err = new ApiError(res.status, typeof data === 'object' && data ? data : { error: String(data) });
  if (err.code === 'reauth_required' && !o.retried && reauthPrompt) {
    if (await reauthPrompt()) return request<T>(method, path, body, { ...o, retried: true });
  } else if (res.status === 401 && !path.startsWith('/api/login') && path !== '/api/reauth' && path !== '/api/session') {
    // (a 401 on /api/session is the normal answer before login)
    const idle = idleDeadline > 0 && Date.now() >= idleDeadline - 2000;
    unauthListeners.forEach((f) => f(idle));
  }
  throw err;
}

const enc = encodeURIComponent;

export const api = {
  // Session (internal/auth)
  login: (username: string, password: string, totp: string) =>
    request<SessionInfo>('POST', '/api/login', { username, password, totp }),
  enrol: (username: string, password: string) => request<Enrolment>('POST', '/api/login/enrol', { username, password }),
  confirmEnrol: (username: string, password: string, totp: string) =>
    request<SessionInfo>('POST', '/api/login/enrol/confirm', { username, password, totp }),
  session: () => request<SessionInfo>('GET', '/api/session', undefined, { passive: true }),
  touch: () => request<unknown>('GET', '/api/whoami'),
  reauth: (password: string, totp: string) => request<SessionInfo>('POST', '/api/reauth', { password, totp }),
  logout: () => request<void>('POST', '/api/logout'),

  // Worklist (internal/api)
  worklist: (board = false) =>
    request<WorklistResponse>('GET', board ? '/api/worklist?board=1' : '/api/worklist', undefined, { passive: true }),
  heartbeat: (away: boolean) =>
    request<{ next_heartbeat_seconds: number }>('POST', '/api/presence', { away }, { passive: true }),
  offline: () => request<unknown>('POST', '/api/presence/offline', {}),
  extraWork: () => request<{ extra_work: boolean }>('GET', '/api/worklist/extra-work', undefined, { passive: true }),
  setExtraWork: (on: boolean) => request<{ extra_work: boolean }>('PUT', '/api/worklist/extra-work', { on }),
  open: (uid: string) => request<unknown>('POST', `/api/worklist/${enc(uid)}/open`, {}),
  release: (uid: string, reason: string) => request<unknown>('POST', `/api/worklist/${enc(uid)}/release`, { reason }),
  reassign: (uid: string, to: string, reason: string) =>
    request<unknown>('POST', `/api/worklist/${enc(uid)}/reassign`, { to, reason }),
  facilities: () => request<Facility[]>('GET', '/api/facilities', undefined, { passive: true }),
  preferences: () => request<Preferences>('GET', '/api/preferences'),
  savePreferences: (p: Preferences) => request<Preferences>('PUT', '/api/preferences', p),
  recordCheck: (c: StationCheck) => request<StationCheck>('POST', '/api/station/checks', c),
  latestCheck: (kind: 'display' | 'connection') =>
    request<{ check: StationCheck; within_24h: boolean }>('GET', `/api/station/checks/latest?kind=${kind}`, undefined, { passive: true }),
  probeURL: (bytes: number) => `/api/station/probe?bytes=${bytes}`,

  // Group set-up (internal/setup) and coverage planning (internal/coverage)
  importFacilities: (csv: string) =>
    request<ImportReport>('POST', '/api/facilities/import', csv, { contentType: 'text/csv' }),
  facilitiesExportURL: (format: 'csv' | 'json' = 'csv') => `/api/facilities/export?format=${format}`,
  coverageGaps: (hours: number, modalities: string[] = ['CT']) =>
    request<CoverageMap>('GET', `/api/coverage/gaps?hours=${hours}&modality=${enc(modalities.join(','))}`),

  // Reports (internal/report)
  templates: (modality?: string) =>
    request<Template[]>('GET', '/api/reports/templates' + (modality ? `?modality=${enc(modality)}` : '')),
  allTemplates: () => request<Template[]>('GET', '/api/reports/templates'),
  macros: () => request<Macro[]>('GET', '/api/reports/macros'),
  report: (uid: string) => request<ReportView>('GET', `/api/reports/studies/${enc(uid)}`),
  saveDraft: (uid: string, c: Content) =>
    request<Version>('PUT', `/api/reports/studies/${enc(uid)}/draft`, c),
  sign: (uid: string, kind: 'prelim' | 'final', content: Content) =>
    request<Version>('POST', `/api/reports/studies/${enc(uid)}/sign`, { kind, content }),
  addendum: (uid: string, text: string) => request<Version>('POST', `/api/reports/studies/${enc(uid)}/addendum`, { text }),
  correct: (uid: string, content: Content, reason: string) =>
    request<Version>('POST', `/api/reports/studies/${enc(uid)}/correct`, { content, reason }),
  pdfURL: (uid: string) => `/api/reports/studies/${enc(uid)}/pdf`,

  // Critical results (internal/critical)
  openCritical: (study_uid: string, category: string, text: string) =>
    request<CriticalResult>('POST', '/api/critical', { study_uid, category, finding: { text } }),
  critical: (id: string) => request<CriticalResult>('GET', `/api/critical/${enc(id)}`),
  criticalBoard: () => request<{ now: string; items: CriticalBoardItem[] }>('GET', '/api/critical/board?mine=1', undefined, { passive: true }),
  contacts: (facility: string) => request<Contact[]>('GET', `/api/critical/contacts?facility=${enc(facility)}`),
  attempt: (id: string, a: { method: string; to: { name: string; role?: string; callback?: string }; outcome: string; read_back: boolean }) =>
    request<CriticalResult>('POST', `/api/critical/${enc(id)}/attempts`, a),
  closeCritical: (id: string) => request<CriticalResult>('POST', `/api/critical/${enc(id)}/close`, {}),
  ackLink: (id: string) => request<{ url: string }>('POST', `/api/critical/${enc(id)}/ack-link`, {}),

  // Readers, roster and dashboards (internal/api/console.go, readers.go, dashboard.go)
  readers: () => request<Reader[]>('GET', '/api/readers'),
  saveReader: (r: Reader) => request<Reader>('PUT', `/api/readers/${enc(r.id)}`, r),
  readersExportURL: (format: 'readers-csv' | 'credentials-csv' | 'json') => `/api/readers/export?format=${format}`,
  readerICSURL: (id: string) => `/api/readers/${enc(id)}/calendar.ics`,
  groupICSURL: () => '/api/calendar.ics',
  week: (from: string, days = 7) => request<Week>('GET', `/api/roster/week?from=${enc(from)}&days=${days}`),
  criticalBoardAll: () => request<{ now: string; items: CriticalBoardItem[] }>('GET', '/api/critical/board', undefined, { passive: true }),
  coverageConsole: () => request<CoverageConsole>('GET', '/api/coverage/console', undefined, { passive: true }),
  rosterChange: (c: RosterChange) => request<RosterChange>('POST', '/api/roster/changes', c),
  expiring: (days: number) => request<ExpiryAlert[]>('GET', `/api/alerts/expiring?days=${days}`),
  simulateAhead: (days = 7) => request<SimAhead>('POST', `/api/simulate/ahead?days=${days}`, {}),
  volume: (from: string, to: string) =>
    request<{ rows: VolumeRow[] }>('GET', `/api/dashboard/volume?from=${enc(from)}&to=${enc(to)}`),
  tat: (from: string, to: string) =>
    request<{ reads: number; classes: ClassTAT[] }>('GET', `/api/dashboard/tat?from=${enc(from)}&to=${enc(to)}`),
  rvu: (from: string, to: string) => request<{ rows: ReaderDay[] }>('GET', `/api/dashboard/rvu?from=${enc(from)}&to=${enc(to)}`),
  // critical-result compliance: `to` is exclusive here (internal/critical)
  criticalCompliance: (from: string, toExclusive: string) =>
    request<{ rows: ComplianceRow[] }>('GET', `/api/critical/compliance?from=${enc(from)}&to=${enc(toExclusive)}`),
  discrepancy: (from: string, to: string) =>
    request<{ rows: DiscrepancyRate[] }>('GET', `/api/dashboard/discrepancy?from=${enc(from)}&to=${enc(to)}`),
  // the console's order queues (internal/api/orders.go)
  protocolQueue: () => request<Order[]>('GET', '/api/orders/protocol-queue', undefined, { passive: true }),
  approveOrder: (id: string, code: string, text = '') => request<Order>('POST', `/api/orders/${enc(id)}/approve`, { code, text }),
  rejectOrder: (id: string, reason: string) => request<Order>('POST', `/api/orders/${enc(id)}/reject`, { reason }),
  facilityProtocols: (facility: string) => request<LibraryProtocol[]>('GET', `/api/facilities/${enc(facility)}/protocols`),
  unmatchedStudies: () => request<Unmatched[]>('GET', '/api/reconciliation', undefined, { passive: true }),
  attachStudy: (id: number, orderID: string) => request<unknown>('POST', `/api/reconciliation/${id}/attach`, { order_id: orderID }),
  myNumbers: (from: string, to: string) =>
    request<{ own: OwnView }>('GET', `/api/dashboard/me?from=${enc(from)}&to=${enc(to)}`),

  // DICOMweb (QIDO-RS, WADO-RS rendered)
  series: (study: string) => request<DicomJSON[]>('GET', `/dicomweb/studies/${enc(study)}/series`),
  instances: (study: string, series: string) =>
    request<DicomJSON[]>('GET', `/dicomweb/studies/${enc(study)}/series/${enc(series)}/instances`),
  renderedURL: (study: string, series: string, sop: string) =>
    `/dicomweb/studies/${enc(study)}/series/${enc(series)}/instances/${enc(sop)}/rendered`,
};

// parseChange reads one SSE "change" event's data.
export function parseChange(data: string): Change | null {
  try {
    return JSON.parse(data) as Change;
  } catch {
    return null;
  }
}

// tag reads the first value of a DICOM JSON attribute as text.
export function tag(d: DicomJSON, t: string): string {
  const v = d[t]?.Value?.[0];
  if (v === undefined || v === null) return '';
  if (typeof v === 'object' && 'Alphabetic' in (v as object)) return String((v as { Alphabetic: string }).Alphabetic);
  return String(v);
}

// Quality and collaboration programmes (issue #20): peer review, tumor
// boards, IR teleconsults and the teaching file.
export const quality = {
  peerPolicy: () => request<PeerPolicy>('GET', '/api/peer-review/policy'),
  savePeerPolicy: (p: PeerPolicy) => request<PeerPolicy>('PUT', '/api/peer-review/policy', p),
  drawPeerReviews: (month: string) => request<PeerDraw>('POST', '/api/peer-review/draw', { month }),
  peerReviews: (as: 'reviewer' | 'author' | 'all') => request<PeerReview[]>('GET', `/api/peer-reviews?as=${as}`),
  scorePeerReview: (id: number, score: RadpeerScore, comment: string, arbitrate = false) =>
    request<PeerReview>('POST', `/api/peer-reviews/${id}/${arbitrate ? 'arbitrate' : 'score'}`, { score, comment }),
  peerRates: () => request<PeerRate[]>('GET', '/api/peer-review/rates'),
  peerExportURL: '/api/peer-review/export.csv',

  boards: () => request<TumorBoard[]>('GET', '/api/tumor-boards'),
  board: (id: number) => request<{ board: TumorBoard; grants: BoardGrant[] }>('GET', `/api/tumor-boards/${id}`),
  createBoard: (b: Pick<TumorBoard, 'title' | 'starts_at' | 'ends_at' | 'disciplines' | 'participants'>) =>
    request<TumorBoard>('POST', '/api/tumor-boards', b),
  addBoardCase: (id: number, study_uid: string, notes: string) =>
    request<{ case: BoardCase; grants: BoardGrant[] }>('POST', `/api/tumor-boards/${id}/cases`, { study_uid, notes }),
  updateBoardCase: (id: number, caseID: number, notes: string, recommendation: string) =>
    request<BoardCase>('PUT', `/api/tumor-boards/${id}/cases/${caseID}`, { notes, recommendation }),
  keyImages: (study: string) => request<KeyImageRef[]>('GET', `/api/studies/${enc(study)}/key-images`),

  consults: () => request<IRConsult[]>('GET', '/api/ir-consults'),
  requestConsult: (c: Pick<IRConsult, 'study_uid' | 'source' | 'indication' | 'question' | 'urgency' | 'report_id'>) =>
    request<IRConsult>('POST', '/api/ir-consults', c),
  consultStep: (id: number, step: 'accept' | 'recommend' | 'close', body: Record<string, string> = {}) =>
    request<IRConsult>('POST', `/api/ir-consults/${id}/${step}`, body),

  teaching: (subspecialty = '', finding = '') =>
    request<TeachingCase[]>('GET', `/api/teaching?subspecialty=${enc(subspecialty)}&finding=${enc(finding)}`),
  shareTeaching: (study: string, subspecialty: string, finding: string, note: string) =>
    request<TeachingCase>('POST', `/api/studies/${enc(study)}/teaching`, { subspecialty, finding, note }),
  teachingInstanceURL: (id: number, n: number) => `/api/teaching/${id}/instances/${n}`,

  mentorPolicy: () => request<MentorPolicy>('GET', '/api/mentoring/policy'),
  saveMentorPolicy: (p: MentorPolicy) => request<MentorPolicy>('PUT', '/api/mentoring/policy', p),
  overReads: (withUser = '') => request<OverRead[]>('GET', `/api/mentoring/overreads?with=${enc(withUser)}`),
  commentOverRead: (id: number, comment: string) => request<OverRead>('POST', `/api/mentoring/overreads/${id}/comment`, { comment }),
};

// collab: the reading room, second opinions and their live session, clinic
// visits, and break-glass access (features/collab).
const consultPath = (study: string, id: number) => `/api/studies/${enc(study)}/consults/${id}`;
export const collab = {
  room: () => request<Room>('GET', '/api/room'),
  setStatus: (s: Omit<RoomStatus, 'username'>) => request<RoomStatus>('PUT', '/api/room/status', s),
  postRoom: (body: string) => request<ChatMessage>('POST', '/api/room/messages', { body }),
  roomEventsURL: '/api/room/events',
  ask: (study: string, a: { consultant?: string; subspecialty?: string; question: string }) =>
    request<{ consult: Consult; candidates: ConsultCandidate[] }>('POST', `/api/studies/${enc(study)}/consults`, a),
  consults: (study: string) => request<Consult[]>('GET', `/api/studies/${enc(study)}/consults`),
  myConsults: () => request<Consult[]>('GET', '/api/consults'),
  consult: (study: string, id: number) =>
    request<{ consult: Consult; messages: ChatMessage[]; present: string[] }>('GET', consultPath(study, id)),
  say: (study: string, id: number, body: string) => request<ChatMessage>('POST', `${consultPath(study, id)}/messages`, { body }),
  opine: (study: string, id: number, opinion: string) => request<Consult>('POST', `${consultPath(study, id)}/opinion`, { opinion }),
  signal: (study: string, id: number, ev: Omit<LiveEvent, 'from'>) => request<void>('POST', `${consultPath(study, id)}/signal`, ev, { passive: true }),
  consultEventsURL: (study: string, id: number) => `${consultPath(study, id)}/events`,
  rtc: () => request<{ ice_servers: RTCIceServer[] }>('GET', '/api/rtc'),
  invite: (study: string) => request<{ visit: Visit; link: string }>('POST', `/api/studies/${enc(study)}/visits`),
  visit: (study: string, id: number) => request<Visit>('GET', `/api/studies/${enc(study)}/visits/${id}`),
  visitSignal: (study: string, id: number, ev: Omit<LiveEvent, 'from'>) =>
    request<void>('POST', `/api/studies/${enc(study)}/visits/${id}/signal`, ev, { passive: true }),
  visitEventsURL: (study: string, id: number) => `/api/studies/${enc(study)}/visits/${id}/events`,
  endVisit: (study: string, id: number) => request<Visit>('POST', `/api/studies/${enc(study)}/visits/${id}/end`),
  // The patient's side: no account, the visit cookie set by join.
  joinVisit: (token: string, name: string, consent: boolean) =>
    request<{ physician: string; joined_at: string; ice_servers: RTCIceServer[] }>('POST', '/api/visit/join', { token, name, consent }),
  guestSignal: (ev: Omit<LiveEvent, 'from'>) => request<void>('POST', '/api/visit/signal', ev),
  guestEventsURL: '/api/visit/events',
  // inScope: whether the study exists in the caller's scope (a DICOMweb
  // search answers an empty list either way; this answers 404).
  inScope: (study: string) =>
    request<unknown>('GET', `/api/studies/${enc(study)}/key-images`).then(() => true, (e) => !(e instanceof ApiError && e.status === 404)),
  breakGlass: (study: string, reason: string) =>
    request<{ id: number; expires_at: string }>('POST', `/api/studies/${enc(study)}/break-glass`, { reason }),
};

// audit: who accessed a patient, for administrators (features/audit). POST,
// so the patient's identifiers stay out of URLs and access logs.
export const auditTrail = {
  patientAccesses: (q: PatientAccessQuery) =>
    request<PatientAccess[]>('POST', '/api/audit/patient', q),
  // Emergency grants with the reasons given (never sent by e-mail).
  breakGlassGrants: (since: string) =>
    request<BreakGlassGrant[]>('GET', `/api/break-glass?since=${enc(since)}`),
};
