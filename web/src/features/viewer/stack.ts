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
