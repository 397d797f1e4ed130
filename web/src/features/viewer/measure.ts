// Length measurements drawn with Cornerstone's Length tool, in image
// coordinates (column, row) with the length the tool computed from Pixel
// Spacing (0028,0030).
import { utilities as csUtils } from '@cornerstonejs/core';
import * as tools from '@cornerstonejs/tools';
import type { Annotation } from './keyimages';

export function lengthAnnotations(imageId?: string): (Annotation & { imageId: string })[] {
  return (tools.annotation.state.getAllAnnotations() ?? []).flatMap((a) => {
    const id = a.metadata?.referencedImageId ?? '';
    const pts = a.data.handles?.points ?? [];
    if (a.metadata?.toolName !== tools.LengthTool.toolName || (imageId && id !== imageId) || pts.length !== 2) return [];
    const st = Object.values((a.data.cachedStats ?? {}) as Record<string, { length?: number; unit?: string }>)[0];
    if (st?.length === undefined) return [];
    const points = pts.map((p) => {
      const [c, r] = csUtils.worldToImageCoords(id, p) ?? [NaN, NaN];
      return [c, r] as [number, number];
    });
    return [{ imageId: id, kind: 'length' as const, points, value: st.length, unit: st.unit ?? 'mm' }];
  });
}

// The measurements that follow in a shared viewing session, by tool.
export type MarkTool = 'length' | 'angle' | 'ellipse' | 'rect' | 'probe';

const markTools: Record<string, MarkTool> = {
  [tools.LengthTool.toolName]: 'length',
  [tools.AngleTool.toolName]: 'angle',
  [tools.EllipticalROITool.toolName]: 'ellipse',
  [tools.RectangleROITool.toolName]: 'rect',
  [tools.ProbeTool.toolName]: 'probe',
};

export interface Mark {
  tool: MarkTool;
  points: [number, number][]; // image (column, row): the tool's handles
  label: string; // what the tool shows: length, angle, mean and area, value
}

type Stats = { length?: number; angle?: number; mean?: number; area?: number; value?: number; unit?: string; areaUnit?: string; modalityUnit?: string };

const r1 = (v: number) => Math.round(v * 10) / 10;

function markLabel(tool: MarkTool, st: Stats | undefined): string {
  if (!st) return '';
  switch (tool) {
    case 'length': return st.length === undefined ? '' : `${r1(st.length)} ${st.unit ?? 'mm'}`;
    case 'angle': return st.angle === undefined ? '' : `${r1(st.angle)}°`;
    case 'probe': return st.value === undefined ? '' : `${r1(st.value)} ${st.modalityUnit ?? ''}`.trim();
    default: return st.mean === undefined ? '' : `mean ${r1(st.mean)}${st.area !== undefined ? `, ${r1(st.area)} ${st.areaUnit ?? 'mm²'}` : ''}`;
  }
}

// sharedMarks are the measurements on one image, for the other screens of
// a shared viewing session.
export function sharedMarks(imageId: string): Mark[] {
  return (tools.annotation.state.getAllAnnotations() ?? []).flatMap((a) => {
    const tool = markTools[a.metadata?.toolName ?? ''];
    const pts = a.data.handles?.points ?? [];
    if (!tool || a.metadata?.referencedImageId !== imageId || pts.length === 0) return [];
    const st = Object.values((a.data.cachedStats ?? {}) as Record<string, Stats>)[0];
    const points = pts.map((p) => {
      const [c, r] = csUtils.worldToImageCoords(imageId, p) ?? [NaN, NaN];
      return [Math.round(c * 100) / 100, Math.round(r * 100) / 100] as [number, number];
    });
    return [{ tool, points, label: markLabel(tool, st) }];
  });
}
