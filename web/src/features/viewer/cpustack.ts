// A stack viewport on Cornerstone's CPU path made to answer as its WebGL
// twin does, so the viewer, the tools and shared viewing (collab) need not
// know which path drew it. Cornerstone's CPU path, a port of the legacy
// Cornerstone, differs in what it reports:
//  - zoom: the CPU path's is the absolute scale (screen pixels per image
//    pixel, undefined before the first image); the WebGL path's is relative
//    to the image fitted to the viewport (1 = fit), which the overlay shows
//    and shared viewing sends to viewers that may draw on either path;
//  - pan: the CPU path's is the translation in image pixels and its setter
//    takes world coordinates; the WebGL path's is the image's offset on the
//    canvas in CSS pixels, both ways;
//  - window and invert after a new image: the CPU path keeps drawing with
//    the reader's window (or a preset) and invert but reports the new
//    image's own (its defaults), so the overlay and the tools would show a
//    window the image is not drawn with.
import { type Enums, type Types, utilities as csUtils } from '@cornerstonejs/core';

// The CPU path's state this file reads (StackViewport's CPU fallback).
interface CPUImage {
  rows: number;
  columns: number;
  rowPixelSpacing?: number;
  columnPixelSpacing?: number;
}
interface CPUState {
  canvas: HTMLCanvasElement;
  image?: CPUImage;
  viewport?: {
    scale?: number;
    invert?: boolean;
    voi?: { windowWidth: number; windowCenter: number; voiLUTFunction?: Enums.VOILUTFunctionType };
  };
}
interface CPUViewport {
  _cpuFallbackEnabledElement: CPUState;
  voiRange?: Types.VOIRange;
  invert: boolean;
  stackInvalidated?: boolean;
  getUseCustomRenderingPipeline: () => boolean;
  _updateToDisplayImageCPU: (image: unknown) => void;
}

// fitScale is the CPU path's scale of the image fitted to the canvas (its
// getImageFitScale: square screen pixels, the longer axis by its spacing).
function fitScale(s: CPUState): number {
  const img = s.image;
  if (!img) return 1;
  const rs = img.rowPixelSpacing || 1;
  const cs = img.columnPixelSpacing || 1;
  const v = rs < cs ? 1 : rs / cs;
  const h = rs < cs ? cs / rs : 1;
  return Math.min(s.canvas.height / img.rows / v, s.canvas.width / img.columns / h) || 1;
}

// The image the CPU path draws. The loader makes images for both paths,
// and its colour images for this one (useRGBA) come as RGBA only when it
// converted their colour space: interleaved RGB stays three samples a
// pixel, which the CPU path would read as four. Colour of more than 8 bits
// (16 and 32, decoded by the server) it can neither window (a lookup table
// over every possible value: 2^32 entries hang the page) nor draw directly
// (for a window of 256, every colour image's, it draws the loader's own
// canvas of the image, which replaces the image's samples with 8-bit ones,
// clamped: white): it draws an 8-bit copy. A rescaled image of floats (a
// fractional slope or intercept) it turns into 16-bit integers with a
// rescale to match, in the cached image itself, which the stack's probe,
// the tools and an MPR volume made from the cache would then read as the
// floats: the cached image gets its floats back and the CPU path draws the
// integers from a copy. Either way the viewport's image (getCornerstoneImage)
// stays the cached one, the stored samples.
interface CSImage {
  color?: boolean;
  rgba?: boolean;
  rows: number;
  columns: number;
  slope: number;
  intercept: number;
  minPixelValue: number;
  maxPixelValue: number;
  windowWidth?: number | number[];
  windowCenter?: number | number[];
  preScale?: { scaled?: boolean; scalingParameters?: { rescaleSlope?: number; rescaleIntercept?: number } };
  imageFrame?: { bitsStored?: number; pixelData?: ArrayLike<number>; smallestPixelValue?: number; largestPixelValue?: number };
  getCanvas?: () => HTMLCanvasElement;
  cachedLut?: unknown;
  getPixelData: () => ArrayLike<number>;
  voxelManager?: { getScalarData: () => ArrayLike<number> };
}

const copies = new WeakMap<CSImage, CSImage>();

// copyWith is img drawn from other samples (and what else differs).
function copyWith(img: CSImage, px: ArrayLike<number>, rest: Partial<CSImage>): CSImage {
  const vm = Object.create(img.voxelManager ?? null) as NonNullable<CSImage['voxelManager']>;
  vm.getScalarData = () => px;
  return { ...img, getCanvas: undefined, cachedLut: undefined, getPixelData: () => px, voxelManager: vm, ...rest };
}

function forCPU(img: CSImage): CSImage {
  const vm = img.voxelManager;
  const frame = img.imageFrame;
  if (vm && Object.prototype.hasOwnProperty.call(vm, 'getScalarData') && frame?.pixelData instanceof Float32Array && !img.preScale?.scaled) {
    // The CPU path's integers, drawn from a copy; the cached image as it was.
    const c = copies.get(img) ?? copyWith(img, vm.getScalarData(), {
      slope: img.slope, intercept: img.intercept, minPixelValue: img.minPixelValue, maxPixelValue: img.maxPixelValue, preScale: { ...img.preScale },
    });
    copies.set(img, c);
    delete (vm as Partial<typeof vm>).getScalarData;
    const p = img.preScale?.scalingParameters;
    Object.assign(img, {
      slope: p?.rescaleSlope ?? 1, intercept: p?.rescaleIntercept ?? 0, preScale: { ...img.preScale, scaled: true },
      minPixelValue: frame.smallestPixelValue ?? img.minPixelValue, maxPixelValue: frame.largestPixelValue ?? img.maxPixelValue,
    });
    return c;
  }
  if (!img.color) return img;
  const px = vm?.getScalarData() ?? img.getPixelData();
  if (px.length === 3 * img.rows * img.columns) img.rgba = false;
  if (px instanceof Uint8Array || px instanceof Uint8ClampedArray) return img;
  let c = copies.get(img);
  if (!c) {
    const bits = frame?.bitsStored || (px instanceof Uint16Array ? 16 : 32);
    const k = 255 / (2 ** bits - 1);
    const out = new Uint8Array(px.length);
    for (let i = 0; i < px.length; i++) out[i] = Math.round(px[i] * k);
    c = copyWith(img, out, { minPixelValue: 0, maxPixelValue: 255, windowWidth: 256, windowCenter: 128 });
    copies.set(img, c);
  }
  return c;
}

export function likeWebGL(vp: Types.IStackViewport) {
  const cpu = vp as unknown as CPUViewport;
  // Drawing asks the viewport's class, whose answer follows Cornerstone's
  // global switch (on only while the viewport is made: cornerstone.ts).
  cpu.getUseCustomRenderingPipeline = () => true;

  const state = () => cpu._cpuFallbackEnabledElement;
  const absZoom = vp.getZoom.bind(vp) as () => number | undefined;
  const setAbsZoom = vp.setZoom.bind(vp) as (z: number) => void;
  vp.getZoom = () => {
    const z = absZoom();
    return z ? z / fitScale(state()) : 1;
  };
  vp.setZoom = (z: number) => {
    if (state().image) setAbsZoom(z * fitScale(state()));
  };

  // The image's centre on the canvas, from the canvas's centre.
  const centre = (): Types.Point2 | null => {
    const img = state().image;
    const id = vp.getCurrentImageId();
    if (!img || !id) return null;
    const w = csUtils.imageToWorldCoords(id, [img.columns / 2, img.rows / 2]);
    if (!w) return null;
    const c = vp.worldToCanvas(w);
    return [c[0] - vp.element.clientWidth / 2, c[1] - vp.element.clientHeight / 2];
  };
  vp.getPan = () => centre() ?? [0, 0];
  vp.setPan = (pan: Types.Point2) => {
    const now = centre();
    if (!now) return;
    const [dx, dy] = [pan[0] - now[0], pan[1] - now[1]];
    if (Math.abs(dx) < 0.5 && Math.abs(dy) < 0.5) return;
    const focal = vp.canvasToWorld([vp.element.clientWidth / 2 - dx, vp.element.clientHeight / 2 - dy]);
    vp.setCamera({ focalPoint: focal });
  };

  const show = cpu._updateToDisplayImageCPU.bind(cpu);
  cpu._updateToDisplayImageCPU = (image: unknown) => {
    show(forCPU(image as CSImage));
    const v = state().viewport;
    if (v?.voi && Number.isFinite(v.voi.windowWidth) && Number.isFinite(v.voi.windowCenter)) {
      cpu.voiRange = csUtils.windowLevel.toLowHighRange(v.voi.windowWidth, v.voi.windowCenter, v.voi.voiLUTFunction);
    }
    if (v) cpu.invert = !!v.invert;
  };
}
