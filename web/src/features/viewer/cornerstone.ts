// One-time set-up of Cornerstone3D: the rendering core, the tools, and the
// DICOM image loader with its decoders in web workers. The loader's WASM
// codecs are bundled by Vite and served by Lightbox itself (same origin).
import { cache, init as coreInit } from '@cornerstonejs/core';
import * as tools from '@cornerstonejs/tools';
import dicomImageLoader from '@cornerstonejs/dicom-image-loader';

let ready: Promise<void> | null = null;

export const toolClasses = [
  tools.StackScrollTool,
  tools.WindowLevelTool,
  tools.ZoomTool,
  tools.PanTool,
  tools.LengthTool,
];

// cacheBytes bounds the decoded-image cache (prefetch included); least
// recently used images go first.
export const cacheBytes = 1024 * 1024 * 1024;

export function initCornerstone(): Promise<void> {
  ready ??= (async () => {
    coreInit();
    dicomImageLoader.init({ maxWebWorkers: Math.max(1, Math.min(4, (navigator.hardwareConcurrency || 2) - 1)) });
    tools.init();
    toolClasses.forEach((t) => tools.addTool(t));
    cache.setMaxCacheSize(cacheBytes);
  })();
  return ready;
}

// purgeImages empties the decoded-image cache (logout, prefetch reset).
export function purgeImages() {
  if (ready) cache.purgeCache();
}
