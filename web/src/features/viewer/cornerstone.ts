// One-time set-up of Cornerstone3D: the rendering core, the tools, and the
// DICOM image loader with its decoders in web workers. The loader's WASM
// codecs are bundled by Vite and served by Lightbox itself (same origin).
import {
  cache, cornerstoneStreamingImageVolumeLoader, init as coreInit, getRenderingCapabilities, getWebWorkerManager, metaData,
  RenderingEngine, setUseCPURendering, volumeLoader, type Types,
} from '@cornerstonejs/core';
import { decodeImageFrame } from 'cornerstone-frame-decoder';
import * as tools from '@cornerstonejs/tools';
import dicomImageLoader from '@cornerstonejs/dicom-image-loader';
import type { DicomJSON } from '../../api/types';
import { onClear } from '../../storage';
import { bulkBytes, nativeSyntaxes, stopStreams } from './bulk';
import { forgetStacks } from './dicomweb';
import { openingSyntax, setCachedCheck, takeFrame } from './frames';
import { frameAcceptFor } from './metadata';
import { forgetPrefetch, prefetchState } from './prefetch';
import { onCachePolicy } from './cachepolicy';
import { rewriteFrame, rewriteFor } from './predecode';
import { renderChoice, type RenderPath } from './renderpath';
import { likeWebGL } from './cpustack';

let ready: Promise<void> | null = null;

// Frame requests whose response predecode.ts rewrites before the loader
// parses it (1-bit, uncompressed YBR_FULL_422), by request.
const rewritten = new WeakMap<XMLHttpRequest, DicomJSON>();

// acceptFor: the frame's Accept header by its instance (metadata.ts); it
// also marks the requests whose response predecode.ts rewrites.
function acceptFor(xhr: XMLHttpRequest, imageId: string): string {
  const md = dicomImageLoader.wadors.metaDataManager.get(imageId) as DicomJSON | undefined;
  if (md && rewriteFor(md)) rewritten.set(xhr, md);
  return frameAcceptFor(md);
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
    performance.mark('lb:init');
    coreInit();
    chooseStackPath();
    performance.mark('lb:core');
    const startDecoders = lazyDecoders();
    dicomImageLoader.init({
      maxWebWorkers: Math.max(1, Math.min(4, navigator.hardwareConcurrency || 2)),
      beforeSend: (xhr: XMLHttpRequest, imageId: string) => ({ Accept: acceptFor(xhr, imageId) }),
      beforeProcessing: async (xhr: XMLHttpRequest) => {
        const md = rewritten.get(xhr);
        return md ? rewriteFrame(xhr.response as ArrayBuffer, md) : xhr.response;
      },
    });
    decodeOnPage();
    const opening = openingSyntax();
    if (!opening) startDecoders();
    else void opening.then((ts) => nativeSyntaxes.has(ts) || startDecoders());
    // MPR: volumes built from the same WADO-RS frames, slice by slice.
    volumeLoader.registerVolumeLoader('cornerstoneStreamingImageVolume', cornerstoneStreamingImageVolumeLoader as never);
    // Frames fetched outside the loader (frames.ts) are its compressed-frame
    // registry, which it reads before going to the network.
    metaData.addProvider((type: string, imageId: string) => (type === 'compressedFrameData' ? takeFrame(imageId) : undefined), 10000);
    setCachedCheck((imageId) => !!cache.getImageLoadObject(imageId));
    performance.mark('lb:loader');
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
    (window as unknown as Record<string, unknown>).__lightboxCache = () => ({ bytes: cache.getCacheSize(), max: cache.getMaxCacheSize(), ...prefetchState(), bulkBytes: bulkBytes() });
  })();
  return ready;
}

// Native (uncompressed) frames the viewer waits on, the opening frame first
// among them, are decoded on the page: for those the decoder only lays the
// bytes out as pixels and applies the rescale, less work than the round
// trip to a decoder worker (a copy there and back), and the opening frame
// does not wait for the workers to start. The loader asks for them as
// Interaction requests; the series retrieve's and the prefetch's frames,
// and volumes (target buffers), stay in the workers.

interface DecodeArgs {
  imageFrame: unknown;
  transferSyntax: string;
  pixelData: Uint8Array;
  decodeConfig: unknown;
  options?: { targetBuffer?: unknown };
}

function decodeOnPage() {
  const m = getWebWorkerManager() as unknown as { executeTask: (...a: unknown[]) => Promise<unknown> };
  const inWorker = m.executeTask.bind(m);
  m.executeTask = (worker: unknown, method: unknown, args: unknown, opts?: unknown) => {
    const a = args as DecodeArgs;
    const o = opts as { requestType?: string } | undefined;
    if (worker === 'dicomImageLoader' && method === 'decodeTask' && o?.requestType === 'interaction' &&
      nativeSyntaxes.has(a.transferSyntax) && !a.options?.targetBuffer) {
      return decodeImageFrame(a.imageFrame, a.transferSyntax, a.pixelData, a.decodeConfig, a.options);
    }
    return inWorker(worker, method, args, opts);
  };
}

// lazyDecoders makes the loader's decoder workers start on their first
// task instead of when the loader registers them: a case opening on a
// native frame (decoded on the page, above) does not need them, and their
// start (fetching and compiling the decoders, in two workers) competed with
// its first image for the 2 cores. The returned function starts them all,
// for a case opening on a frame they must decode.
function lazyDecoders(): () => void {
  const m = getWebWorkerManager() as unknown as { registerWorker: (name: string, make: () => Worker, o?: unknown) => void };
  const register = m.registerWorker.bind(m);
  const starts: (() => void)[] = [];
  m.registerWorker = (name, make, o) => register(name, name === 'dicomImageLoader' ? () => lazyWorker(make, starts) : make, o);
  return () => starts.forEach((f) => f());
}

// lazyWorker stands for a worker made on its first message (Comlink's
// endpoint: postMessage, addEventListener, removeEventListener). No start
// method: Comlink calls an endpoint's start before each message.
function lazyWorker(make: () => Worker, starts: (() => void)[]): Worker {
  let w: Worker | undefined;
  const early: [string, EventListenerOrEventListenerObject][] = [];
  const begin = () => {
    if (!w) {
      w = make();
      early.forEach(([t, l]) => w!.addEventListener(t, l));
      early.length = 0;
    }
    return w;
  };
  starts.push(begin);
  return {
    postMessage: (msg: unknown, transfer?: Transferable[]) => begin().postMessage(msg, transfer ?? []),
    addEventListener: (t: string, l: EventListenerOrEventListenerObject) => (w ? w.addEventListener(t, l) : void early.push([t, l])),
    removeEventListener: (t: string, l: EventListenerOrEventListenerObject) => {
      if (w) return w.removeEventListener(t, l);
      const i = early.findIndex(([a, b]) => a === t && b === l);
      if (i >= 0) early.splice(i, 1);
    },
    terminate: () => w?.terminate(),
  } as unknown as Worker;
}

// purgeImages empties the decoded-image cache (logout, prefetch reset).
export function purgeImages() {
  stopStreams();
  cache.purgeCache();
  dicomImageLoader.wadors.metaDataManager.purge();
  forgetStacks();
  forgetPrefetch();
}

// The stack viewports' rendering path, chosen once per page. Where WebGL is
// emulated in software (SwiftShader, llvmpipe: a station without a usable
// GPU, headless Chromium) Cornerstone's CPU path draws a slice for a
// fraction of the WebGL path's cost: a lookup table over the stored pixels
// and one canvas draw, against a float texture upload, a software shader
// pass over every pixel, a read back of the WebGL canvas and a copy onto the
// viewport's own. On a real GPU the WebGL path stays. Volume viewports (MPR,
// MIP) cannot use the CPU path and always get WebGL. The reader's override
// is renderpath.ts's.
let stackPath: RenderPath = 'gpu';

function chooseStackPath() {
  const caps = getRenderingCapabilities();
  const choice = renderChoice();
  let why: string;
  if (!caps.webgl) [stackPath, why] = ['cpu', 'no WebGL'];
  else if (choice !== 'auto') [stackPath, why] = [choice, 'chosen'];
  else if (caps.softwareRasterizer) [stackPath, why] = ['cpu', `software WebGL (${caps.renderer})`];
  else [stackPath, why] = ['gpu', caps.renderer || 'WebGL'];
  (window as unknown as Record<string, unknown>).__lightboxRender = { path: stackPath, why };
}

// Cornerstone reads its CPU switch when an engine or a viewport is made, and
// when drawing asks the viewport's class: the switch is on only while the
// stack engine and its viewports are made (the MPR's engine and volume
// viewports, made with it off, keep WebGL), and each stack viewport made so
// answers for itself that it draws on the CPU.
function onStackPath<T>(make: () => T): T {
  if (stackPath !== 'cpu') return make();
  setUseCPURendering(true, false);
  try {
    return make();
  } finally {
    setUseCPURendering(false, false);
  }
}

// newStackEngine makes the engine the stack viewports live in: on the CPU
// path it makes no WebGL contexts.
export function newStackEngine(id: string): RenderingEngine {
  return onStackPath(() => new RenderingEngine(id));
}

// enableStack makes a stack viewport on the chosen path.
export function enableStack(engine: RenderingEngine, input: Types.PublicViewportInput): Types.IStackViewport {
  onStackPath(() => engine.enableElement(input));
  const vp = engine.getViewport(input.viewportId) as Types.IStackViewport;
  if (stackPath === 'cpu') likeWebGL(vp);
  return vp;
}
