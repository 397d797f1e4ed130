// Hanging protocols: which series (or, for mammography, which image) goes
// into which pane when a case opens, by modality and body part and by the
// reader's choice saved in the station preferences (internal/station
// HangingProtocols). Pure functions over DICOM JSON, tested in
// hanging.test.ts.
import type { DicomJSON } from '../../api/types';

export type Protocol = 'single' | 'prior-beside' | 'mr-2x2' | 'mg-4up';

export const protocols: { id: Protocol; label: string }[] = [
  { id: 'single', label: 'Hang: single' },
  { id: 'prior-beside', label: 'Hang: prior beside' },
  { id: 'mr-2x2', label: 'Hang: MR 2×2' },
  { id: 'mg-4up', label: 'Hang: MG 4-up' },
];

// HangPane is one pane of a hanging: a series, optionally one image of it
// (sop), optionally flipped left-right (mammography mirroring).
export interface HangPane {
  study: string;
  series: string;
  sop?: string;
  flip?: boolean;
  label?: string;
}

const s = (d: DicomJSON | undefined, t: string): string => String(d?.[t]?.Value?.[0] ?? '').trim();
const all = (d: DicomJSON | undefined, t: string): string[] => (d?.[t]?.Value ?? []).map((v) => String(v).trim().toUpperCase());

// modalitiesOf: Modalities in Study (0008,0061), else Modality (0008,0060).
function modalitiesOf(study: DicomJSON): string[] {
  const m = all(study, '00080061');
  return m.length ? m : all(study, '00080060');
}

// protocolKey is the preference key of a study: modality, then modality and
// Body Part Examined ("MR HEAD") when the study says it.
export function protocolKeys(modality: string, bodyPart: string): string[] {
  const m = modality.toUpperCase();
  const b = bodyPart.toUpperCase().trim();
  return b ? [`${m} ${b}`, m] : [m];
}

// defaultProtocol is the hanging a reader gets without a preference.
export function defaultProtocol(modality: string, bodyPart: string): Protocol {
  switch (modality.toUpperCase()) {
    case 'MG':
      return 'mg-4up';
    case 'MR':
      return /HEAD|BRAIN/i.test(bodyPart) ? 'mr-2x2' : 'prior-beside';
    case 'CT':
      return 'prior-beside';
    default:
      return 'single';
  }
}

// protocolFor: the reader's choice for the most specific key, else the default.
export function protocolFor(modality: string, bodyPart: string, prefs: Record<string, string> = {}): Protocol {
  for (const k of protocolKeys(modality, bodyPart)) {
    const p = prefs[k];
    if (p === 'single' || p === 'prior-beside' || p === 'mr-2x2' || p === 'mg-4up') return p;
  }
  return defaultProtocol(modality, bodyPart);
}

// rankPriors orders the patient's other studies: same modality and same
// body part first, then same modality, then the rest; newest first within
// each rank (Study Date, Study Time).
export function rankPriors(current: DicomJSON, priors: DicomJSON[], bodyPart = ''): DicomJSON[] {
  const mods = new Set(modalitiesOf(current));
  const part = bodyPart.toUpperCase();
  const desc = s(current, '00081030').toUpperCase();
  const score = (p: DicomJSON) => {
    const sameMod = modalitiesOf(p).some((m) => mods.has(m));
    const pd = s(p, '00081030').toUpperCase();
    const pParts = all(p, '00180015');
    const samePart = part !== '' && (pParts.includes(part) || pd.includes(part));
    return (sameMod ? 2 : 0) + (sameMod && (samePart || (desc !== '' && pd === desc)) ? 1 : 0);
  };
  const when = (p: DicomJSON) => s(p, '00080020') + s(p, '00080030');
  return priors
    .filter((p) => s(p, '0020000D') !== s(current, '0020000D'))
    .map((p) => ({ p, k: score(p), t: when(p) }))
    .sort((a, b) => b.k - a.k || b.t.localeCompare(a.t))
    .map((x) => x.p);
}

// MR sequences of the brain 2×2, by Series Description (0008,103E).
const mrKeys: { label: string; re: RegExp }[] = [
  { label: 'T1', re: /(^|[^A-Z0-9])T1/i },
  { label: 'T2', re: /(^|[^A-Z0-9])T2(?!.*FLAIR)/i },
  { label: 'FLAIR', re: /FLAIR/i },
  { label: 'DWI', re: /DWI|DIFFUSION|TRACE|\bB1000\b/i },
];

// hangMR2x2 picks T1, T2, FLAIR and DWI of the current study; a sequence
// the study lacks is filled by its next series not yet shown.
export function hangMR2x2(study: string, series: DicomJSON[]): HangPane[] {
  const withImages = series.filter((x) => Number(s(x, '00201209') || 1) > 0);
  const used = new Set<string>();
  const out: (HangPane | null)[] = mrKeys.map(({ label, re }) => {
    const hit = withImages.find((x) => !used.has(s(x, '0020000E')) && re.test(s(x, '0008103E')));
    if (!hit) return null;
    used.add(s(hit, '0020000E'));
    return { study, series: s(hit, '0020000E'), label };
  });
  return out
    .map((p) => {
      if (p) return p;
      const rest = withImages.find((x) => !used.has(s(x, '0020000E')));
      if (!rest) return null;
      used.add(s(rest, '0020000E'));
      return { study, series: s(rest, '0020000E'), label: s(rest, '0008103E') };
    })
    .filter((p): p is HangPane => p !== null);
}

// The four screening views in reading order (left to right).
export const mgViews = ['RCC', 'LCC', 'RMLO', 'LMLO'] as const;

// mgView is an image's view: Image Laterality (0020,0062) or Laterality
// (0020,0060) with View Position (0018,5101).
export function mgView(inst: DicomJSON): string {
  const lat = (s(inst, '00200062') || s(inst, '00200060')).toUpperCase();
  const view = s(inst, '00185101').toUpperCase();
  return lat && view ? lat + view : '';
}

// mgFlip: mirrored hanging puts the right breast on the left with its chest
// wall to the right, the left breast on the right with its chest wall to the
// left, so the chest walls meet in the middle. Patient Orientation
// (0020,0020) first value is the direction of the rows (towards the right
// of the image, PS3.3 C.7.6.1.1.1): for a right breast it must point
// posterior (P), for a left one anterior (A); the other way round the image
// is flipped.
export function mgFlip(inst: DicomJSON): boolean {
  const lat = (s(inst, '00200062') || s(inst, '00200060')).toUpperCase();
  const row = all(inst, '00200020')[0] ?? '';
  if (!row) return false;
  if (lat === 'R') return row.startsWith('A');
  if (lat === 'L') return row.startsWith('P');
  return false;
}

export interface MGImage {
  study: string;
  series: string;
  inst: DicomJSON;
}

// hangMG4up: the current study's RCC, LCC, RMLO, LMLO in the top row and
// the prior's below, each mirrored; a missing view leaves its pane out of
// the prior row (the current row always has the four when present).
export function hangMG4up(current: MGImage[], prior: MGImage[]): HangPane[] {
  const row = (imgs: MGImage[], tag: string): (HangPane | null)[] =>
    mgViews.map((v) => {
      const hit = imgs.find((i) => mgView(i.inst) === v);
      return hit
        ? { study: hit.study, series: hit.series, sop: s(hit.inst, '00080018'), flip: mgFlip(hit.inst), label: `${tag} ${v}` }
        : null;
    });
  const top = row(current, 'Current');
  const bottom = prior.length ? row(prior, 'Prior') : [];
  return [...top, ...bottom].filter((p): p is HangPane => p !== null);
}
