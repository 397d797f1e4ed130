// Series metadata (WADO-RS), fetched once per page life. Kept apart from
// the Cornerstone3D chunk so the case page can ask for the first series'
// metadata while that chunk is still loading.
import type { DicomJSON } from '../../api/types';
import { tag } from '../../api/client';
import { onClear } from '../../storage';
import { fetchOpeningFrame } from './frames';
import { rewriteFor } from './predecode';
import { num, sortInstances, withKnownVRs } from './stack';

const enc = encodeURIComponent;

export async function getJSON<T>(url: string): Promise<T> {
  const res = await fetch(url, { headers: { Accept: 'application/dicom+json' }, credentials: 'same-origin' });
  if (!res.ok) throw new Error(`${url.split('?')[0]}: HTTP ${res.status}`);
  if (res.status === 204) return [] as T;
  return (await res.json()) as T;
}

const cache = new Map<string, Promise<DicomJSON[]>>();

// A series' metadata in Lightbox's shared form (internal/dicomweb
// sharedMetadata): what every instance has alike once, then each
// instance's own attributes.
interface SharedForm {
  shared: DicomJSON;
  instances: DicomJSON[];
}

// mergeShared turns the shared form back into the series' DICOM JSON.
export function mergeShared(f: SharedForm): DicomJSON[] {
  return f.instances.map((own) => Object.assign({}, f.shared, own));
}

// seriesMetadata is a series' DICOM JSON, one object per instance. It is
// asked for in the shared form: a 1,000-slice CT's metadata is 3.8 MB of
// JSON, nearly all of it repeated, and parsing it held the page's thread
// in front of the first image (bench/README.md); the standard WADO-RS
// metadata serves where the shared form is refused (a very large series).
async function fetchSeriesMetadata(study: string, series: string): Promise<DicomJSON[]> {
  const url = `${location.origin}/dicomweb/studies/${enc(study)}/series/${enc(series)}`;
  const res = await fetch(`${url}/metadata-shared`, { headers: { Accept: 'application/json' }, credentials: 'same-origin' });
  if (res.ok) return mergeShared((await res.json()) as SharedForm);
  if (res.status === 401 || res.status === 403) throw new Error(`${url}/metadata-shared: HTTP ${res.status}`);
  return getJSON<DicomJSON[]>(`${url}/metadata`);
}

export function seriesMetadata(study: string, series: string): Promise<DicomJSON[]> {
  const key = `${study}/${series}`;
  let p = cache.get(key);
  if (!p) {
    p = fetchSeriesMetadata(study, series);
    p.catch(() => cache.delete(key));
    cache.set(key, p);
  }
  return p;
}

const sorted = new Map<string, Promise<DicomJSON[]>>();

// sortedMetadata is the series' instances in stack order (stack.ts
// sortInstances), their UN-encoded text read by its VR.
export function sortedMetadata(study: string, series: string): Promise<DicomJSON[]> {
  const key = `${study}/${series}`;
  let p = sorted.get(key);
  if (!p) {
    p = seriesMetadata(study, series).then((md) => sortInstances(md.map(withKnownVRs)));
    p.catch(() => sorted.delete(key));
    sorted.set(key, p);
  }
  return p;
}

export function forgetMetadata() {
  cache.clear();
  sorted.clear();
  lists.clear();
}

// A study's series list (QIDO-RS), kept for the page's life with the time
// it was asked for: the case page of a prefetched study opens on it without
// a request (and asks again behind it when it is older than freshFor).
const lists = new Map<string, { at: number; p: Promise<DicomJSON[]>; value?: DicomJSON[] }>();
const freshFor = 10000;

// Signing out forgets what this user could read, whether or not the viewer
// (cornerstone.ts purgeImages) ever started.
onClear(forgetMetadata);

export function studySeries(study: string): Promise<DicomJSON[]> {
  let e = lists.get(study);
  if (!e) {
    e = { at: Date.now(), p: getJSON<DicomJSON[]>(`${location.origin}/dicomweb/studies/${enc(study)}/series`) };
    const mine = e;
    e.p.then((v) => (mine.value = v), () => lists.get(study) === mine && lists.delete(study));
    lists.set(study, e);
  }
  return e.p;
}

// knownSeries is the study's series list if it was asked for (by the
// prefetch or the case's first moments), whether it is fresh, and the list
// itself once it is in (a prefetched case's page renders on it at once).
export function knownSeries(study: string): { series: Promise<DicomJSON[]>; fresh: boolean; value?: DicomJSON[] } | null {
  const e = lists.get(study);
  return e ? { series: e.p, fresh: Date.now() - e.at < freshFor, value: e.value } : null;
}

// openCase starts what a case's first image needs the moment the case is
// asked for (the app's first lines for a /case/ address; a worklist click),
// while the viewer's code and Cornerstone load: the series list, the
// opening series' metadata, and its opening frame where the hanging starts
// with that series alone (Viewer.tsx: not MR 2×2 or mammography 4-up).
// Raw fetches: a page not signed in yet gets a 401 here, and the app's own
// session check decides what that means.
// It resolves once the opening frame's request is out (or the metadata
// failed).
export async function openCase(study: string): Promise<void> {
  const first = firstSeries(await studySeries(study));
  if (first) await openFirst(study, first);
}

export function openFirst(study: string, first: DicomJSON): Promise<unknown> {
  const uid = tag(first, '0020000E');
  const alone = !['MR', 'MG'].includes(tag(first, '00080060'));
  return (alone ? openSeries(study, uid) : seriesMetadata(study, uid)).catch(() => {});
}

// frameImageId is the loader's image ID of a frame (1-based): its WADO-RS
// frame URL.
export function frameImageId(study: string, series: string, sop: string, frame: number): string {
  return `wadors:${location.origin}/dicomweb/studies/${enc(study)}/series/${enc(series)}/instances/${enc(sop)}/frames/${frame}`;
}

// frameAccept asks for frames in whatever syntax they are stored, exactly
// as OHIF does (PS3.18 8.7.3.5.2): the server answers with the stored
// JPEG, JPEG-LS, JPEG 2000, HTJ2K or RLE bytes and names their transfer
// syntax in each part's Content-Type; the loader decodes them.
const frameAccept = 'multipart/related; type=application/octet-stream; transfer-syntax=*';

// Pixel formats the loader's decoders refuse or mangle in some stored
// syntaxes (its RLE decoder takes 8 and 16 bits only; 16-bit colour): for
// those the server decodes to Explicit VR Little Endian, which the loader
// reads natively.
const nativeAccept = 'multipart/related; type=application/octet-stream; transfer-syntax=1.2.840.10008.1.2.1';

export function frameAcceptFor(inst: DicomJSON | undefined): string {
  const bits = num(inst ?? {}, '00280100');
  const samples = Number(inst?.['00280002']?.Value?.[0] ?? 1);
  return bits === 32 || (samples === 3 && bits === 16) ? nativeAccept : frameAccept;
}

// openSeries fetches what the first image of a series needs as early as
// possible: its metadata, then the frame the viewer opens on (the middle
// of the stack; Viewer.tsx Pane), before Cornerstone has started.
export async function openSeries(study: string, series: string) {
  const md = await sortedMetadata(study, series);
  performance.mark('lb:sorted');
  if (!md.length || md.some((d) => (num(d, '00280008') || 1) > 1)) return; // multi-frame: frames, not instances, count
  const inst = md[Math.floor(md.length / 2)];
  // Frames predecode.ts must rewrite go through the loader's request hook.
  if (rewriteFor(inst)) return;
  fetchOpeningFrame(frameImageId(study, series, tag(inst, '00080018'), 1), frameAcceptFor(inst));
}

// firstSeries is the series a case opens on: the first with images.
export function firstSeries(series: DicomJSON[]): DicomJSON | undefined {
  return series.find((s) => Number(tag(s, '00201209')) > 0) ?? series[0];
}
