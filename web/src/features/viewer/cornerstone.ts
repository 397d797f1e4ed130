// One-time set-up of Cornerstone3D: the rendering core, the tools, and the
// DICOM image loader with its decoders in web workers. The loader's WASM
// codecs are bundled by Vite and served by Lightbox itself (same origin).
import { cache, cornerstoneStreamingImageVolumeLoader, init as coreInit, metaData, volumeLoader } from '@cornerstonejs/core';
import * as tools from '@cornerstonejs/tools';
import dicomImageLoader from '@cornerstonejs/dicom-image-loader';
import { onClear } from '../../storage';
import type { DicomJSON } from '../../api/types';
import { bulkBytes, stopStreams } from './bulk';
import { forgetStacks } from './dicomweb';
import { setCachedCheck, takeFrame } from './frames';
import { frameAcceptFor } from './metadata';
import { forgetPrefetch, prefetchState } from './prefetch';

let ready: Promise<void> | null = null;

// acceptFor: the frame's Accept header by its instance (metadata.ts).
function acceptFor(imageId: string): string {
  return frameAcceptFor(dicomImageLoader.wadors.metaDataManager.get(imageId) as DicomJSON | undefined);
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

// cacheBytes bounds the decoded-image cache (prefetch included); least
// recently used images go first.
export const cacheBytes = 1024 * 1024 * 1024;

export function initCornerstone(): Promise<void> {
  ready ??= (async () => {
    coreInit();
    dicomImageLoader.init({
      maxWebWorkers: Math.max(1, Math.min(4, navigator.hardwareConcurrency || 2)),
      beforeSend: (_xhr: XMLHttpRequest, imageId: string) => ({ Accept: acceptFor(imageId) }),
    });
    // MPR: volumes built from the same WADO-RS frames, slice by slice.
    volumeLoader.registerVolumeLoader('cornerstoneStreamingImageVolume', cornerstoneStreamingImageVolumeLoader as never);
    // Frames fetched outside the loader (frames.ts) are its compressed-frame
    // registry, which it reads before going to the network.
    metaData.addProvider((type: string, imageId: string) => (type === 'compressedFrameData' ? takeFrame(imageId) : undefined), 10000);
    setCachedCheck((imageId) => !!cache.getImageLoadObject(imageId));
    tools.init();
    toolClasses.forEach((t) => tools.addTool(t));
    cache.setMaxCacheSize(cacheBytes);
    // Logout empties the decoded images and the metadata with them.
    onClear(purgeImages);
    (window as unknown as Record<string, unknown>).__lightboxCache = () => ({ bytes: cache.getCacheSize(), ...prefetchState(), bulkBytes: bulkBytes() });
  })();
  return ready;
}

// purgeImages empties the decoded-image cache (logout, prefetch reset).
export function purgeImages() {
  stopStreams();
  cache.purgeCache();
  dicomImageLoader.wadors.metaDataManager.purge();
  forgetStacks();
  forgetPrefetch();
}
