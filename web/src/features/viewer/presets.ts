// Window/level presets per modality. CT values are Hounsfield units
// (window centre, width); the other modalities have no calibrated scale,
// so they keep the stored/auto window only.

export interface Preset {
  name: string;
  center: number;
  width: number;
}

const ct: Preset[] = [
  { name: 'Brain', center: 40, width: 80 },
  { name: 'Subdural', center: 75, width: 215 },
  { name: 'Stroke', center: 32, width: 8 },
  { name: 'Lung', center: -600, width: 1500 },
  { name: 'Mediastinum', center: 50, width: 350 },
  { name: 'Bone', center: 400, width: 1800 },
  { name: 'Abdomen', center: 40, width: 400 },
  { name: 'Liver', center: 60, width: 160 },
];

export function presetsFor(modality: string): Preset[] {
  return modality === 'CT' ? ct : [];
}

// voiRange turns a centre/width into the lower/upper bounds Cornerstone
// takes (DICOM PS3.3 C.11.2.1.2: linear function, width at least 1).
export function voiRange(center: number, width: number): { lower: number; upper: number } {
  const w = Math.max(1, width);
  return { lower: center - w / 2, upper: center + w / 2 };
}

export function centerWidth(r: { lower: number; upper: number }): { center: number; width: number } {
  return { center: (r.lower + r.upper) / 2, width: r.upper - r.lower };
}
