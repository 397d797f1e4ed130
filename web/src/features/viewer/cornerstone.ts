// One-time set-up of Cornerstone3D: the rendering core, the tools, and the
// DICOM image loader with its decoders in web workers. The loader's WASM
// codecs are bundled by Vite and served by Lightbox itself (same origin).
import { cache, cornerstoneStreamingImageVolumeLoader, init as coreInit, volumeLoader } from '@cornerstonejs/core';
import * as tools from '@cornerstonejs/tools';
import dicomImageLoader from '@cornerstonejs/dicom-image-loader';
import type { DicomJSON } from '../../api/types';
import { onClear } from '../../storage';
import { forgetStacks } from './dicomweb';
import { forgetPrefetch, prefetchState } from './prefetch';
import { onCachePolicy } from './cachepolicy';
import { rewriteFrame, rewriteFor } from './predecode';

let ready: Promise<void> | null = null;

// frameAccept asks for frames in whatever syntax they are stored, exactly
// as OHIF does (PS3.18 8.7.3.5.2): the server answers with the stored
// JPEG, JPEG-LS, JPEG 2000, HTJ2K or RLE bytes and names their transfer
// syntax in each part's Content-Type; the loader decodes them.
const frameAccept = 'multipart/related; type=application/octet-stream; transfer-syntax=*';

// Pixel formats the loader's decoders refuse or mangle in some stored
// syntaxes (its RLE decoder takes 8 and 16 bits only; 16-bit colour): for
// those the server decodes to Explicit VR Little Endian, which the loader
// reads natively.
const nativeAccept = 'multipart/related; type=application/octet-stream; transfer-syntax=1.2.840.10008.1.2.1';

const metadataOf = (imageId: string) => dicomImageLoader.wadors.metaDataManager.get(imageId) as DicomJSON | undefined;

// Frame requests whose response predecode.ts rewrites before the loader
// parses it (1-bit, uncompressed YBR_FULL_422), by request.
const rewritten = new WeakMap<XMLHttpRequest, DicomJSON>();

function acceptFor(xhr: XMLHttpRequest, imageId: string): string {
  const md = metadataOf(imageId);
  if (md && rewriteFor(md)) rewritten.set(xhr, md);
  const bits = Number(md?.['00280100']?.Value?.[0]);
  const samples = Number(md?.['00280002']?.Value?.[0] ?? 1);
  return bits === 32 || (samples === 3 && bits === 16) ? nativeAccept : frameAccept;
}

export const toolClasses = [
  tools.StackScrollTool,
  tools.WindowLevelTool,
  tools.ZoomTool,
  tools.PanTool,
  tools.LengthTool,
  tools.AngleTool,
  tools.EllipticalROITool,
  tools.RectangleROITool,
  tools.ProbeTool,
  tools.CrosshairsTool,
];

export function initCornerstone(): Promise<void> {
  ready ??= (async () => {
    coreInit();
    dicomImageLoader.init({
      maxWebWorkers: Math.max(1, Math.min(4, (navigator.hardwareConcurrency || 2) - 1)),
      beforeSend: (xhr: XMLHttpRequest, imageId: string) => ({ Accept: acceptFor(xhr, imageId) }),
      beforeProcessing: async (xhr: XMLHttpRequest) => {
        const md = rewritten.get(xhr);
        return md ? rewriteFrame(xhr.response as ArrayBuffer, md) : xhr.response;
      },
    });
    // MPR: volumes built from the same WADO-RS frames, slice by slice.
    volumeLoader.registerVolumeLoader('cornerstoneStreamingImageVolume', cornerstoneStreamingImageVolumeLoader as never);
    tools.init();
    toolClasses.forEach((t) => tools.addTool(t));
    // The decoded-image cache (prefetch included) is bounded by the
    // reader's setting (cachepolicy.ts, default 4 GiB); least recently used
    // images go first. A smaller bound takes effect at once.
    onCachePolicy((p) => {
      cache.setMaxCacheSize(p.bytes);
      cache.decacheIfNecessaryUntilBytesAvailable(0);
    });
    // Logout empties the decoded images and the metadata with them.
    onClear(purgeImages);
    (window as unknown as Record<string, unknown>).__lightboxCache = () => ({ bytes: cache.getCacheSize(), max: cache.getMaxCacheSize(), ...prefetchState() });
  })();
  return ready;
}

// purgeImages empties the decoded-image cache (logout, prefetch reset).
export function purgeImages() {
  cache.purgeCache();
  dicomImageLoader.wadors.metaDataManager.purge();
  forgetStacks();
  forgetPrefetch();
}
