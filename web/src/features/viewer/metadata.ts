// Series metadata (WADO-RS), fetched once per page life. Kept apart from
// the Cornerstone3D chunk so the case page can ask for the first series'
// metadata while that chunk is still loading.
import type { DicomJSON } from '../../api/types';
import { tag } from '../../api/client';

const enc = encodeURIComponent;

export async function getJSON<T>(url: string): Promise<T> {
  const res = await fetch(url, { headers: { Accept: 'application/dicom+json' }, credentials: 'same-origin' });
  if (!res.ok) throw new Error(`${url.split('?')[0]}: HTTP ${res.status}`);
  if (res.status === 204) return [] as T;
  return (await res.json()) as T;
}

const cache = new Map<string, Promise<DicomJSON[]>>();

export function seriesMetadata(study: string, series: string): Promise<DicomJSON[]> {
  const key = `${study}/${series}`;
  let p = cache.get(key);
  if (!p) {
    p = getJSON<DicomJSON[]>(`${location.origin}/dicomweb/studies/${enc(study)}/series/${enc(series)}/metadata`);
    p.catch(() => cache.delete(key));
    cache.set(key, p);
  }
  return p;
}

export function forgetMetadata() {
  cache.clear();
}

// firstSeries is the series a case opens on: the first with images.
export function firstSeries(series: DicomJSON[]): DicomJSON | undefined {
  return series.find((s) => Number(tag(s, '00201209')) > 0) ?? series[0];
}
