// The viewer's DICOMweb reads: series metadata (WADO-RS), registered with
// the image loader, then image IDs that fetch frames in the stored transfer
// syntax (transfer-syntax=*: the server sends the bytes it holds, the
// browser decodes them).
import dicomImageLoader from '@cornerstonejs/dicom-image-loader';
import type { DicomJSON } from '../../api/types';
import { num, position } from './stack';
import { rankPriors } from './hanging';
import { forgetMetadata, frameImageId, getJSON, sortedMetadata, studySeries } from './metadata';
import { forgetFrames } from './frames';

const enc = encodeURIComponent;

export interface Stack {
  study: string;
  series: string;
  imageIds: string[];
  instances: DicomJSON[]; // one per image ID (frames of a multi-frame repeat it)
  positions: number[]; // along the slice normal, NaN without
}

const stacks = new Map<string, Promise<Stack>>();

export function forgetStacks() {
  stacks.clear();
  forgetMetadata();
  forgetFrames();
}

// loadStack fetches a series' metadata once per page life.
export function loadStack(study: string, series: string): Promise<Stack> {
  const key = `${study}/${series}`;
  let p = stacks.get(key);
  if (!p) {
    p = buildStack(study, series);
    p.catch(() => stacks.delete(key));
    stacks.set(key, p);
  }
  return p;
}

async function buildStack(study: string, series: string): Promise<Stack> {
  const md = await sortedMetadata(study, series);
  const s: Stack = { study, series, imageIds: [], instances: [], positions: [] };
  for (const inst of md) {
    const sop = String(inst['00080018']?.Value?.[0] ?? '');
    const frames = Math.max(1, num(inst, '00280008') || 1);
    // The loader reads Modality as a string for every image (its NM
    // checks): an instance without one (secondary captures, JPEG 2000
    // samples) gets an empty value instead of a failed load.
    const forLoader = inst['00080060']?.Value?.length ? inst : { ...inst, '00080060': { vr: 'CS', Value: [''] } };
    for (let f = 1; f <= frames; f++) {
      const id = frameImageId(study, series, sop, f);
      dicomImageLoader.wadors.metaDataManager.add(id, forLoader as never);
      s.imageIds.push(id);
      s.instances.push(inst);
      s.positions.push(position(inst));
    }
  }
  return s;
}

// seriesList: a study's series, asked for once per page life (metadata.ts
// studySeries; the prefetch fills it, so a prefetched case opens on it).
export const seriesList = studySeries;

// priorsOf lists the patient's other studies the caller may see (QIDO-RS;
// the server applies the caller's scope), most relevant first (hanging.ts
// rankPriors: same modality and body part, then date).
export async function priorsOf(study: string, bodyPart = ''): Promise<DicomJSON[]> {
  const [cur] = await getJSON<DicomJSON[]>(`/dicomweb/studies?StudyInstanceUID=${enc(study)}`);
  const patientID = String(cur?.['00100020']?.Value?.[0] ?? '');
  if (!patientID) return [];
  const all = await getJSON<DicomJSON[]>(`/dicomweb/studies?PatientID=${enc(patientID)}&includefield=00081030&includefield=00080061`);
  return rankPriors(cur, all, bodyPart);
}

export function thumbnailURL(study: string, series: string): string {
  return `/dicomweb/studies/${enc(study)}/series/${enc(series)}/thumbnail`;
}
