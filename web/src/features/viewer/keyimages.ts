// Key images saved with the study on the server (internal/api/keyimages.go).
const enc = encodeURIComponent;

export interface Annotation {
  kind: 'length';
  points: [number, number][];
  value: number;
  unit: string;
}

export interface KeyImage {
  id: number;
  study_uid: string;
  series_uid: string;
  sop_uid: string;
  frame: number;
  note: string;
  annotations: Annotation[];
  created_by: string;
  created_at: string;
}

// The session's CSRF token, read once; the app's client keeps its own.
let csrf: Promise<string> | null = null;
function token(): Promise<string> {
  csrf ??= fetch('/api/session', { credentials: 'same-origin' })
    .then((r) => r.json())
    .then((s: { csrf_token?: string }) => s.csrf_token ?? '')
    .catch(() => {
      csrf = null;
      return '';
    });
  return csrf;
}

async function call<T>(method: string, path: string, body?: unknown): Promise<T> {
  const headers: Record<string, string> = { Accept: 'application/json' };
  if (method !== 'GET') headers['X-CSRF-Token'] = await token();
  if (body !== undefined) headers['Content-Type'] = 'application/json';
  const res = await fetch(path, { method, headers, body: body === undefined ? undefined : JSON.stringify(body), credentials: 'same-origin', cache: 'no-store' });
  if (res.status === 204) return undefined as T;
  const data = await res.json().catch(() => ({}));
  if (!res.ok) throw new Error((data as { error?: string }).error ?? `HTTP ${res.status}`);
  return data as T;
}

const base = (study: string) => `/api/studies/${enc(study)}/key-images`;

export const keyImagesAPI = {
  list: (study: string) => call<KeyImage[]>('GET', base(study)),
  add: (study: string, k: Omit<KeyImage, 'id' | 'study_uid' | 'created_by' | 'created_at'>) => call<KeyImage>('POST', base(study), k),
  remove: (study: string, id: number) => call<void>('DELETE', `${base(study)}/${id}`),
};

// frameRef reads series, SOP instance and frame from a WADO-RS image ID.
export function frameRef(imageId: string): { series: string; sop: string; frame: number } | null {
  const m = /\/series\/([^/]+)\/instances\/([^/]+)\/frames\/(\d+)/.exec(imageId);
  return m ? { series: decodeURIComponent(m[1]), sop: decodeURIComponent(m[2]), frame: Number(m[3]) } : null;
}
