// Ordering a series' images into a stack and finding the slice of another
// stack at the same position (scroll synchronisation of a prior).
import type { DicomJSON } from '../../api/types';

export function num(d: DicomJSON, t: string, i = 0): number {
  const v = d[t]?.Value?.[i];
  return v === undefined || v === null || v === '' ? NaN : Number(v);
}

function nums(d: DicomJSON, t: string): number[] {
  return (d[t]?.Value ?? []).map(Number);
}

// normalOf is the slice normal from Image Orientation (Patient) (0020,0037):
// the cross product of the row and column direction cosines.
export function normalOf(iop: number[]): [number, number, number] | null {
  if (iop.length !== 6 || iop.some((v) => !Number.isFinite(v))) return null;
  const [a, b, c, d, e, f] = iop;
  return [b * f - c * e, c * d - a * f, a * e - b * d];
}

// position is the slice's distance along the normal (mm), or NaN when the
// image has no Image Position (Patient) (projection radiographs).
export function position(d: DicomJSON): number {
  const n = normalOf(nums(d, '00200037'));
  const p = nums(d, '00200032');
  if (!n || p.length !== 3) return NaN;
  return p[0] * n[0] + p[1] * n[1] + p[2] * n[2];
}

// sortInstances orders by position along the normal when every image has
// one, otherwise by Instance Number (0020,0013).
export function sortInstances(is: DicomJSON[]): DicomJSON[] {
  const pos = is.map(position);
  const byPos = pos.every(Number.isFinite);
  return is
    .map((d, i) => ({ d, k: byPos ? pos[i] : num(d, '00200013') }))
    .sort((a, b) => (byPos ? b.k - a.k : a.k - b.k)) // head first: superior (higher z) on top
    .map((x) => x.d);
}

// nearest returns the index of the position closest to p (ties: the lower
// index), or -1 for an empty or position-less list.
export function nearest(positions: number[], p: number): number {
  let best = -1;
  let dist = Infinity;
  positions.forEach((q, i) => {
    const dd = Math.abs(q - p);
    if (Number.isFinite(dd) && dd < dist) {
      best = i;
      dist = dd;
    }
  });
  return best;
}

// Text attributes the viewer and the image loader read, by their
// dictionary VR (PS3.6). A file written with VR UN for them (seen from
// real sites and in pydicom's rtdose_rle.dcm) reaches DICOM JSON as
// InlineBinary (PS3.18 F.2.7); like DCMTK, the viewer reads such values
// with the dictionary VR (PS3.5 6.2.2) instead of losing the image.
const textVRs: Record<string, string> = {
  '00080008': 'CS', '00080016': 'UI', '00080018': 'UI', '00080020': 'DA', '00080030': 'TM', '00080060': 'CS',
  '0008103E': 'LO', '00081030': 'LO', '00100020': 'LO', '00180015': 'CS', '00180050': 'DS', '00180088': 'DS',
  '0020000D': 'UI', '0020000E': 'UI', '00200011': 'IS', '00200013': 'IS', '00200032': 'DS', '00200037': 'DS',
  '00200052': 'UI', '00280004': 'CS', '00280008': 'IS', '00280030': 'DS', '00281050': 'DS', '00281051': 'DS',
  '00281052': 'DS', '00281053': 'DS',
};

// withKnownVRs returns inst with the UN values of textVRs decoded (inst
// itself when it has none).
export function withKnownVRs(inst: DicomJSON): DicomJSON {
  let out: DicomJSON | null = null;
  for (const [t, vr] of Object.entries(textVRs)) {
    const e = inst[t] as { vr: string; InlineBinary?: string } | undefined;
    if (e?.vr !== 'UN' || typeof e.InlineBinary !== 'string') continue;
    const text = atob(e.InlineBinary).replace(/[\0 ]+$/, '');
    const parts = text.split('\\').map((v) => v.trim());
    out ??= { ...inst };
    out[t] = { vr, Value: vr === 'DS' || vr === 'IS' ? parts.map(Number) : parts };
  }
  return out ?? inst;
}
