// Connection check arithmetic: how long a typical study takes to fetch.

// typicalMB: rough compressed sizes of a typical study per modality (a
// thin-slice CT is hundreds of slices of 512×512; a screening mammogram is
// four large images plus tomosynthesis).
export const typicalMB: Record<string, number> = { CT: 150, MR: 60, MG: 200, US: 30, CR: 20, DX: 20 };

export function secondsFor(mb: number, mbitPerS: number, latencyMS: number): number {
  if (mbitPerS <= 0) return Infinity;
  return (mb * 8) / mbitPerS + latencyMS / 1000;
}

export function mbitPerS(bytes: number, ms: number): number {
  return ms > 0 ? (bytes * 8) / 1e6 / (ms / 1000) : 0;
}

export const slowSeconds = 10;
