import { defineConfig } from 'vitest/config';
import type { Plugin } from 'vite';
import react from '@vitejs/plugin-react';
import { fileURLToPath } from 'node:url';

// pageStubs leaves out of the page's bundle (not the workers') code the
// viewer never runs there, which would otherwise be fetched, parsed and
// evaluated before a case's first image: the compressed-frame decoders
// (the image loader decodes in its workers, which keep them all; on the
// page it decodes native frames only: features/viewer/cornerstone.ts
// decodeOnPage), and the mesh file readers of Cornerstone's Mesh (VTP, PLY,
// STL, OBJ: no surfaces are loaded; the VTP one pulls an XML builder).
const stubs = [
  {
    importer: /\/dicom-image-loader\/dist\/esm\/(decodeImageFrameWorker|shared\/decoders\/index)\.js$/,
    source: /^\.\/(shared\/decoders\/)?decode(RLE|JPEGBaseline8Bit|JPEGBaseline12Bit-js|JPEGLossless|JPEGLS|JPEG2000|HTJ2K|DeflatedFrame|JPEGXL)\.js$/,
    code: 'export function initialize() { return Promise.resolve(); }\nexport default function () { throw new Error("compressed frames are decoded in the workers"); }',
  },
  {
    importer: /\/@cornerstonejs\/core\/dist\/esm\/cache\/classes\/Mesh\.js$/,
    source: /^@kitware\/vtk\.js\/IO\/(Geometry\/PLYReader|Geometry\/STLReader|XML\/XMLPolyDataReader|Misc\/OBJReader)\.js$/,
    code: 'export default { newInstance() { throw new Error("mesh files are not read here"); } };',
  },
];

function pageStubs(): Plugin {
  return {
    name: 'lightbox-page-stubs',
    apply: 'build',
    enforce: 'pre',
    resolveId(source, importer) {
      const i = stubs.findIndex((s) => importer && s.importer.test(importer) && s.source.test(source));
      return i >= 0 ? `\0lightbox-stub:${i}:${source}` : null;
    },
    load(id) {
      const m = /^\0lightbox-stub:(\d+):/.exec(id);
      return m ? stubs[Number(m[1])].code : null;
    },
  };
}

// quietLoggers drops loglevel's read of document.cookie (the fallback it
// reads a logger's saved level from when localStorage has none: always,
// here). Cornerstone and dcmjs (its own copy) make a few dozen loggers
// while the viewer's code is evaluated, and each read is a round trip to
// the browser's cookie store: ≈ 10 ms of the page's thread in front of a
// cold case's first image (bench/README.md, session 10). Levels saved in
// localStorage still apply; loglevel writes a cookie only where
// localStorage throws.
const cookieRead = 'var cookie = window.document.cookie;';

function quietLoggers(): Plugin {
  return {
    name: 'lightbox-quiet-loggers',
    apply: 'build',
    transform(code, id) {
      if (!/\/node_modules\/(loglevel\/lib\/loglevel|dcmjs\/build\/dcmjs\.es)\.js$/.test(id)) return null;
      if (!code.includes(cookieRead)) throw new Error(`lightbox-quiet-loggers: no cookie read in ${id}`);
      return { code: code.replaceAll(cookieRead, "var cookie = '';"), map: null };
    },
  };
}

// viewerChunks names the viewer's chunks (Viewer.tsx's and the chunks it
// imports, not the entry's) and their CSS in index.html, for a case's first
// moments to preload: fetched and parsed (off the page's thread) while the
// case's first requests are on the wire, evaluated only when the viewer is
// imported (features/viewer/LazyViewer.tsx preloadChunks).
function viewerChunks(): Plugin {
  return {
    name: 'lightbox-viewer-chunks',
    apply: 'build',
    transformIndexHtml: {
      order: 'post',
      handler(_html, ctx) {
        const bundle = ctx.bundle ?? {};
        const chunk = (f: string) => {
          const c = bundle[f];
          return c?.type === 'chunk' ? c : undefined;
        };
        const viewer = Object.keys(bundle).find((f) => chunk(f)?.facadeModuleId?.endsWith('/src/features/viewer/Viewer.tsx'));
        if (!viewer) throw new Error('lightbox-viewer-chunks: no chunk for features/viewer/Viewer.tsx');
        const files = new Set<string>();
        const walk = (f: string) => {
          const c = chunk(f);
          if (!c || c.isEntry || files.has(f)) return;
          files.add(f);
          c.viteMetadata?.importedCss.forEach((css) => files.add(css));
          c.imports.forEach(walk);
        };
        walk(viewer);
        return [{ tag: 'meta', attrs: { name: 'lightbox-viewer', content: [...files].map((f) => `/${f}`).join(' ') }, injectTo: 'head' }];
      },
    },
  };
}

// The build goes straight into the Go package that embeds it
// (internal/webapp/static); `make web` removes the previous build first, and
// emptyOutDir stays off so the committed placeholder file survives.
export default defineConfig({
  plugins: [react(), pageStubs(), quietLoggers(), viewerChunks()],
  // vtk.js (under Cornerstone3D) reaches xmlbuilder2, which extends Node's
  // EventEmitter: the browser gets the \`events\` package instead.
  // The loader's frame decoder, also run on the page for frames the viewer
  // waits on (features/viewer/cornerstone.ts): the package's exports map
  // offers it only as its worker's script.
  resolve: {
    alias: {
      events: 'events/events.js',
      'cornerstone-frame-decoder': fileURLToPath(
        new URL('./node_modules/@cornerstonejs/dicom-image-loader/dist/esm/decodeImageFrameWorker.js', import.meta.url),
      ),
    },
  },
  build: {
    outDir: '../internal/webapp/static',
    emptyOutDir: false,
    assetsInlineLimit: 0, // no data: URLs for assets: the CSP allows them for images only
    sourcemap: false,
  },
  server: {
    proxy: { '/api': 'http://127.0.0.1:8080', '/dicomweb': 'http://127.0.0.1:8080', '/fhir': 'http://127.0.0.1:8080' },
  },
  test: {
    include: ['src/**/*.test.ts'],
    environment: 'node',
  },
});
