// Interoperability check of Lightbox DICOMweb with dicomweb-client (npm).
// Usage: node interop.mjs BASE_URL TOKEN OUT_DIR FILE.dcm...
// Stores the files (STOW-RS), searches, retrieves metadata, a frame and the
// first instance, which it writes to OUT_DIR/retrieved.dcm for the Go side
// to compare. Prints one JSON summary line; exits non-zero on any failure.
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import XMLHttpRequest from 'xhr2';
import dicomweb from 'dicomweb-client';

globalThis.XMLHttpRequest = XMLHttpRequest;

const [url, token, outDir, ...files] = process.argv.slice(2);
if (!url || !token || !outDir || files.length === 0) {
  console.error('usage: node interop.mjs BASE_URL TOKEN OUT_DIR FILE.dcm...');
  process.exit(2);
}

const client = new dicomweb.api.DICOMwebClient({ url, headers: { Authorization: `Bearer ${token}` } });
const value = (obj, tag) => (obj[tag] && obj[tag].Value ? obj[tag].Value[0] : undefined);
const check = (cond, msg) => { if (!cond) throw new Error(msg); };

async function main() {
  const datasets = files.map((f) => { const b = readFileSync(f); return b.buffer.slice(b.byteOffset, b.byteOffset + b.byteLength); });
  const stored = await client.storeInstances({ datasets });
  const response = typeof stored === 'string' ? JSON.parse(stored) : stored;
  const refs = response['00081199'] && response['00081199'].Value;
  check(refs && refs.length === files.length, 'STOW-RS response does not reference every instance');

  const studies = await client.searchForStudies({ queryParams: { limit: 10 } });
  check(studies.length >= 1, 'no studies found');
  const studyUID = value(studies[0], '0020000D');
  const pn = value(studies[0], '00100010');
  check(pn && typeof pn.Alphabetic === 'string', 'PatientName is not a PN object');

  const series = await client.searchForSeries({ studyInstanceUID: studyUID });
  check(series.length >= 1, 'no series found');
  const seriesUID = value(series[0], '0020000E');
  const instances = await client.searchForInstances({ studyInstanceUID: studyUID, seriesInstanceUID: seriesUID });
  check(instances.length === files.length, `found ${instances.length} instances, stored ${files.length}`);
  const sopUID = value(instances[0], '00080018');

  const studyMeta = await client.retrieveStudyMetadata({ studyInstanceUID: studyUID });
  const seriesMeta = await client.retrieveSeriesMetadata({ studyInstanceUID: studyUID, seriesInstanceUID: seriesUID });
  check(studyMeta.length === files.length && seriesMeta.length === files.length, 'metadata count');
  const bulk = seriesMeta[0]['7FE00010'] && seriesMeta[0]['7FE00010'].BulkDataURI;
  check(bulk && bulk.startsWith(url), `BulkDataURI ${bulk} is not under ${url}`);

  const frames = await client.retrieveInstanceFrames({
    studyInstanceUID: studyUID, seriesInstanceUID: seriesUID, sopInstanceUID: sopUID, frameNumbers: [1],
  });
  check(frames.length === 1, 'frame count');
  const rows = value(seriesMeta[0], '00280010');
  const cols = value(seriesMeta[0], '00280011');
  const frameBytes = frames[0].byteLength;
  check(frameBytes === rows * cols * 2, `frame is ${frameBytes} bytes; ${rows}x${cols}x2 expected`);

  const instance = await client.retrieveInstance({ studyInstanceUID: studyUID, seriesInstanceUID: seriesUID, sopInstanceUID: sopUID });
  writeFileSync(join(outDir, 'retrieved.dcm'), Buffer.from(instance));
  console.log(JSON.stringify({ stored: refs.length, studies: studies.length, series: series.length, instances: instances.length,
    metadata: seriesMeta.length, frameBytes, studyUID, seriesUID, sopUID }));
}

main().catch((err) => { console.error('interop failed:', err && (err.message || err.status || err)); process.exit(1); });
