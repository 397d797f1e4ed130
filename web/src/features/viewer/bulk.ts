// Filling a stack once its first image shows. A series of native
// (uncompressed) frames comes in one WADO-RS series retrieve (PS3.18
// 10.4.1, instances as stored, Content-Length per part): one request
// instead of one per frame through the browser's six connections per host,
// and no per-frame compression on the server (the frame responses are
// gzipped; on a LAN or loopback that costs more than it saves). Each
// instance's pixel data is handed to the loader's compressed-frame registry
// (frames.ts) and decoded into the image cache as it arrives; the response
// is read and split in a worker (bulkWorker.ts), off the page's thread,
// which also renders and decodes. Compressed
// series, and stacks mostly loaded already (prefetched), take Cornerstone's
// stack prefetch: frame requests from the slice on display outwards.
import { cache, canRenderFloatTextures, Enums, eventTarget, imageLoader, metaData, triggerEvent, utilities, type Types } from '@cornerstonejs/core';
import * as tools from '@cornerstonejs/tools';
import dicomImageLoader from '@cornerstonejs/dicom-image-loader';
import type { DicomJSON } from '../../api/types';
import { tag } from '../../api/client';
import type { Stack } from './dicomweb';
import type { BulkMessage, BulkRequest, BulkSpecs } from './bulkWorker';
import type { FrameSpec, NativeFrame } from './native';
import { holdFrame, lastActivity } from './frames';
import { rewriteFor } from './predecode';

const metaOf = (imageId?: string) => (imageId ? (dicomImageLoader.wadors.metaDataManager.get(imageId) as DicomJSON | undefined) : undefined);

// The native transfer syntaxes the viewer takes outside the loader's
// decoder workers (here and cornerstone.ts decodeOnPage).
export const nativeSyntaxes = new Set(['1.2.840.10008.1.2', '1.2.840.10008.1.2.1']);
// Fewer missing images than this are not worth a whole series retrieve.
const minBulk = 16;
// Instances waiting in the page before the stream waits (the rest stays
// in TCP buffers on the server side rather than in the page): enough that
// a page busy for a moment (a render, a collection) does not stall it.
const maxDecoding = 64;

let received = 0;

// bulkBytes: the bytes of the instances series retrieves have brought (the
// worker's requests are not the page's: bench/viewer adds these).
export function bulkBytes() {
  return received;
}

const streams = new Map<string, AbortController & { done?: Promise<void> }>();

// bulkable tells whether the rest of a series the image belongs to can come
// in one series retrieve: its frames are native, and not among those
// predecode.ts rewrites (1-bit, YBR_FULL_422), which need the loader's
// request hook that the series retrieve bypasses.
export function bulkable(image?: Types.IImage & { transferSyntaxUID?: string }): boolean {
  return nativeSyntaxes.has(image?.transferSyntaxUID ?? '') && !rewriteFor(metaOf(image?.imageId));
}

// missingOf: the images of a stack not in the cache, and whether enough are
// missing to take a series retrieve.
export function missingOf(s: Stack) {
  const missing = s.imageIds.filter((id) => !cache.getImageLoadObject(id));
  return { missing, bulk: missing.length >= minBulk };
}

// How long the reader must leave the keys and pointer alone (and no case
// have opened) before background retrieves go on.
const quietAfter = 500; // ms

// Series retrieves for what is on screen (not the prefetch's).
let foreground = 0;

// quiet resolves once the reader has left the keys and pointer alone for
// a moment and no series retrieve for the screen is under way.
export async function quiet() {
  for (;;) {
    const wait = foreground ? 100 : lastActivity() + quietAfter - performance.now();
    if (wait <= 0) return;
    await new Promise((r) => setTimeout(r, wait));
  }
}

// fetchInBackground brings the missing images of a stack into the cache by
// a series retrieve that holds back while the reader works (the prefetch).
export function fetchInBackground(s: Stack): Promise<void> {
  return streamSeries(s, new Set(missingOf(s).missing), true);
}

// fillStack loads the rest of a stack shown in vp.
export function fillStack(vp: Types.IStackViewport, s: Stack, narrowed: boolean) {
  const { missing, bulk } = missingOf(s);
  const prefetch = () => tools.utilities.stackPrefetch.enable(vp.element);
  if (narrowed || !bulk || !bulkable(vp.getCornerstoneImage())) {
    prefetch();
    return;
  }
  streamSeries(s, new Set(missing)).catch((e) => {
    console.warn('viewer: series retrieve failed, frames one by one:', String(e));
    if (vp.element?.isConnected) prefetch();
  });
}

// streamsDone resolves once no series retrieve is under way (the prefetch
// of the next cases waits for the open one).
export async function streamsDone() {
  while (streams.size) await Promise.allSettled([...streams.values()].map((c) => c.done));
}

// stopStreams ends the series retrieves under way (logout).
export function stopStreams() {
  streams.forEach((c) => c.abort());
  streams.clear();
}

async function streamSeries(s: Stack, want: Set<string>, background = false) {
  const key = `${s.study}/${s.series}`;
  if (streams.has(key)) return streams.get(key)?.done;
  const ac: AbortController & { done?: Promise<void> } = new AbortController();
  streams.set(key, ac);
  if (!background) foreground++;
  ac.done = fetchSeries(s, want, ac, background).finally(() => {
    streams.delete(key);
    if (!background) foreground--;
  });
  return ac.done;
}

type Meta = Record<string, unknown> | undefined;

// frameSpec describes a frame the worker can make ready itself (native.ts):
// single-sample greyscale, 8-bit unsigned or 16-bit, with the rescale the
// loader would apply (its getScalingParameters and
// postProcessDecodedPixels); null sends the frame through the loader (PT
// and RTDOSE scale by other attributes; colour needs its conversions).
function frameSpec(imageId: string): FrameSpec | null {
  const px = metaData.get('imagePixelModule', imageId) as Meta;
  const modality = (metaData.get('generalSeriesModule', imageId) as Meta)?.modality;
  if (!px || px.samplesPerPixel !== 1 || !/^MONOCHROME[12]$/.test(String(px.photometricInterpretation))) return null;
  if (modality === 'PT' || modality === 'RTDOSE') return null;
  const bits = px.bitsAllocated;
  const signed = px.pixelRepresentation === 1;
  if (!(bits === 16 || (bits === 8 && !signed))) return null;
  const lut = (metaData.get('modalityLutModule', imageId) as Meta) ?? {};
  const slope = (lut.rescaleSlope as number | undefined) ?? 1;
  const intercept = (lut.rescaleIntercept as number | undefined) ?? 0;
  // Without float textures the loader does not pre-scale by a fraction.
  const scale = (slope !== 1 || intercept !== 0) && ((Number.isInteger(slope) && Number.isInteger(intercept)) || canRenderFloatTextures());
  return {
    bits,
    stored: Number(px.bitsStored ?? bits),
    signed,
    pixels: Number(px.rows) * Number(px.columns),
    ...(scale ? { scale: { slope, intercept } } : {}),
  };
}

// nativeImage is the image the loader's createImage would make of a frame
// the worker made ready (its greyscale path), for the cache.
function nativeImage(imageId: string, f: NativeFrame, transferSyntaxUID: string): Types.IImage {
  const frame = dicomImageLoader.getImageFrame(imageId) as unknown as Record<string, unknown>;
  const plane = (metaData.get('imagePlaneModule', imageId) as Meta) ?? {};
  const voi = (metaData.get('voiLutModule', imageId) as Meta) ?? {};
  const lut = (metaData.get('modalityLutModule', imageId) as Meta) ?? {};
  const sopCommon = (metaData.get('sopCommonModule', imageId) as Meta) ?? {};
  const calibration = (metaData.get('calibrationModule', imageId) as Meta) ?? {};
  const modality = (metaData.get('generalSeriesModule', imageId) as Meta)?.modality;
  Object.assign(frame, {
    pixelData: f.pixels,
    pixelDataLength: f.pixels.length,
    smallestPixelValue: f.min,
    largestPixelValue: f.max,
    ...(f.scaled
      ? { preScale: { enabled: true, scaled: true, scalingParameters: { rescaleSlope: lut.rescaleSlope ?? 1, rescaleIntercept: lut.rescaleIntercept ?? 0, modality } } }
      : {}),
  });
  const rows = frame.rows as number;
  const columns = frame.columns as number;
  const first = (v: unknown) => (Array.isArray(v) ? v[0] : undefined);
  const voiFn = voi.voiLUTFunction as string[] | string | undefined;
  const image = {
    imageId,
    dataType: f.pixels.constructor.name,
    color: false,
    calibration,
    columnPixelSpacing: plane.columnPixelSpacing,
    columns,
    height: rows,
    preScale: frame.preScale,
    intercept: lut.rescaleIntercept ? lut.rescaleIntercept : 0,
    slope: lut.rescaleSlope ? lut.rescaleSlope : 1,
    invert: frame.photometricInterpretation === 'MONOCHROME1',
    minPixelValue: f.min,
    maxPixelValue: f.max,
    rowPixelSpacing: plane.rowPixelSpacing,
    rows,
    sizeInBytes: f.pixels.byteLength,
    width: columns,
    windowCenter: first(voi.windowCenter),
    windowWidth: first(voi.windowWidth),
    voiLUTFunction: (Array.isArray(voiFn) && voiFn.length && voiFn[0]) || voi.voiLutFunction || undefined,
    decodeTimeInMS: 0,
    floatPixelData: undefined,
    imageFrame: frame,
    voxelManager: utilities.VoxelManager.createImageVoxelManager({ scalarData: f.pixels, width: columns, height: rows, numberOfComponents: 1 }),
    rgba: false,
    getPixelData: () => frame.pixelData,
    getCanvas: undefined,
    numberOfComponents: 1,
    // What the loader's wadors loadImage adds.
    transferSyntaxUID,
    imageQualityStatus: Enums.ImageQualityStatus.FULL_RESOLUTION,
    loadTimeInMS: 0,
  } as unknown as Types.IImage & Record<string, unknown>;
  const lutSeq = lut.modalityLUTSequence as unknown[] | undefined;
  if (lutSeq?.length && !['1.2.840.10008.5.1.4.1.1.12.1', '1.2.840.10008.5.1.4.1.1.12.2.1'].includes(String(sopCommon.sopClassUID))) {
    image.modalityLUT = lutSeq[0] as Types.IImage['modalityLUT'];
  }
  const voiSeq = voi.voiLUTSequence as unknown[] | undefined;
  if (voiSeq?.length) image.voiLUT = voiSeq[0] as Types.IImage['voiLUT'];
  if (image.windowCenter === undefined || image.windowWidth === undefined) {
    const wl = utilities.windowLevel.toWindowLevel(f.min, f.max);
    image.windowWidth = wl.windowWidth;
    image.windowCenter = wl.windowCenter;
  }
  return image;
}

// The worker that reads a series retrieve (bulkWorker.ts) and makes its
// frames ready itself. Helpers (more workers making the frames ready while
// it read) are gone: with the rescale in SIMD (simd16.ts) handing a frame
// over cost more than making it ready. Reading the series in two halves at
// once (two requests, two workers) was no faster on two cores and cost
// the browser's network service 0.3 s more CPU (bench/README.md, session
// 10). One worker is kept between
// retrieves (the next cases' prefetch): a worker's start (fetching,
// compiling and evaluating its script) took 50-300 ms before a retrieve's
// request. Started with Cornerstone instead, for the first retrieve, it
// cost the cold first image ≈ 300 ms of the renderer's CPU at load 10-13
// (6 openings against 15) and showed no gain in all slices: not done.
let idle: Worker | null = null;

function takeReader(): Worker {
  const w = idle ?? new Worker(new URL('./bulkWorker.ts', import.meta.url), { type: 'module' });
  idle = null;
  return w;
}

// keepReader keeps a worker whose retrieve has ended for the next, when no
// other is kept; false when it is not kept (the caller ends it).
function keepReader(w: Worker): boolean {
  if (idle) return false;
  w.onmessage = null;
  w.onerror = null;
  idle = w;
  return true;
}

// fetchSeries runs the series retrieve in bulkWorker.ts and puts each
// instance it hands over into the cache: made ready by the worker, or
// decoded by the loader. In the background, the credits that keep the
// worker reading go back only while the reader is not at work (quiet).
function fetchSeries(s: Stack, want: Set<string>, ac: AbortController, background: boolean): Promise<void> {
  const bySop = new Map<string, string[]>();
  s.imageIds.forEach((id, i) => {
    const sop = tag(s.instances[i], '00080018');
    bySop.set(sop, [...(bySop.get(sop) ?? []), id]);
  });
  const specs: BulkSpecs = {};
  for (const [sop, ids] of bySop) {
    if (!ids.some((id) => want.has(id))) continue;
    const fs = ids.map(frameSpec);
    if (fs.every((f) => f)) specs[sop] = fs as FrameSpec[];
  }
  performance.mark('lightbox:bulk-start');
  const w = takeReader();
  let kept = false;
  const stop = () => {
    if (!kept) w.terminate();
  };
  return new Promise<void>((ok, fail) => {
    let decoding = 0;
    let parts = -1; // the worker's count of parts, once it has read them all
    let handled = 0;
    const credit = (n = 1) => {
      handled += n;
      if (background) void quiet().then(() => w.postMessage({ credit: n }));
      else w.postMessage({ credit: n });
    };
    const finish = () => {
      if (handled === parts && decoding === 0) {
        performance.mark('lightbox:bulk-decoded');
        kept = keepReader(w);
        ok();
      }
    };
    ac.signal.addEventListener('abort', () => {
      stop();
      ok();
    });
    w.onerror = (e: ErrorEvent) => {
      stop();
      fail(new Error(e.message || 'series retrieve worker failed'));
    };
    w.onmessage = (e: MessageEvent<BulkMessage>) => {
      const m = e.data;
      if ('error' in m) {
        stop();
        fail(new Error(m.error));
        return;
      }
      if ('built' in m) {
        for (const { sop, bytes, ts, frames } of m.built) {
          received += bytes;
          (bySop.get(sop) ?? []).forEach((id, f) => {
            if (!want.has(id) || cache.getImageLoadObject(id) || !frames[f]) return;
            const image = nativeImage(id, frames[f], ts);
            cache.putImageSync(id, image);
            triggerEvent(eventTarget, Enums.Events.IMAGE_LOADED, { image });
          });
        }
        credit(m.built.length);
        finish();
        return;
      }
      if ('done' in m) {
        performance.mark('lightbox:bulk-received');
        parts = m.done;
        finish();
        return;
      }
      const { sop, data, ts, offset, length } = m.part;
      received += data.length;
      const ids = bySop.get(sop) ?? [];
      const size = length / ids.length;
      const loads: Promise<unknown>[] = [];
      ids.forEach((id, f) => {
        if (!want.has(id) || cache.getImageLoadObject(id)) return;
        // Frames of a multi-frame instance follow each other (PS3.5 8.1.1).
        if (ts && Number.isInteger(size)) {
          const at = offset + f * size;
          holdFrame(id, { pixelData: ids.length === 1 ? data.subarray(at, at + size) : data.slice(at, at + size), transferSyntaxUid: ts });
        }
        // Without held bytes (a compressed instance) the loader asks for
        // the frame itself.
        loads.push(imageLoader.loadAndCacheImage(id).catch(() => {}));
      });
      decoding++;
      void Promise.all(loads).then(() => {
        decoding--;
        credit();
        finish();
      });
    };
    w.postMessage({
      url: `${location.origin}/dicomweb/studies/${encodeURIComponent(s.study)}/series/${encodeURIComponent(s.series)}`,
      accept: 'multipart/related; type="application/dicom"; transfer-syntax=*',
      credits: maxDecoding,
      specs,
    } satisfies BulkRequest);
  });
}
