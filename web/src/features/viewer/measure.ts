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
