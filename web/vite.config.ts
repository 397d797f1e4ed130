import { defineConfig } from 'vitest/config';
import react from '@vitejs/plugin-react';
import { fileURLToPath } from 'node:url';

// The build goes straight into the Go package that embeds it
// (internal/webapp/static); `make web` removes the previous build first, and
// emptyOutDir stays off so the committed placeholder file survives.
export default defineConfig({
  plugins: [react()],
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
