// Loads DICOM files through Lightbox with dicomweb-client the way OHIF does.
// Usage: node corpus.mjs BASE_URL TOKEN OUT_DIR FILE...
// For each file, in turn: STOW-RS; on success the instance metadata, every
// frame with OHIF's Accept header (transfer-syntax=*, also sent verbatim
// to read each part's Content-Type), every frame as Explicit VR Little
// Endian, and the instance as stored (written to OUT_DIR/N.dcm). Prints one JSON line
// per file; the Go test judges them.
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import XMLHttpRequest from 'xhr2';
import dicomweb from 'dicomweb-client';

globalThis.XMLHttpRequest = XMLHttpRequest;

const [url, token, outDir, ...files] = process.argv.slice(2);
const auth = { Authorization: `Bearer ${token}` };
const client = new dicomweb.api.DICOMwebClient({ url, headers: auth });
const OHIF = 'multipart/related; type=application/octet-stream; transfer-syntax=*';
const first = (obj, tag) => (obj[tag] && obj[tag].Value ? obj[tag].Value[0] : undefined);

// stowDetail re-sends a refused file to read the failure items, which
// dicomweb-client does not expose.
async function stowDetail(buf) {
  const boundary = 'corpus-boundary';
  const body = Buffer.concat([Buffer.from(`--${boundary}\r\nContent-Type: application/dicom\r\n\r\n`), buf, Buffer.from(`\r\n--${boundary}--\r\n`)]);
  const rsp = await fetch(`${url}/studies`, { method: 'POST', body, headers: { ...auth, 'Content-Type': `multipart/related; type="application/dicom"; boundary=${boundary}` } });
  const json = await rsp.json();
  const failed = (json['00081198'] && json['00081198'].Value) || [];
  return { status: rsp.status, failed: failed.map((it) => ({ uid: first(it, '00081155'), reason: first(it, '00081197'), comment: first(it, '00000902') })) };
}

// partTypes lists the Content-Type of each part of a multipart body.
function partTypes(buf) {
  return [...buf.toString('latin1').matchAll(/\r\nContent-Type: ([^\r\n]*)\r\n/gi)].map((m) => m[1]);
}

async function one(i, file) {
  const out = { file };
  const buf = readFileSync(file);
  try {
    const rsp = await client.storeInstances({ datasets: [buf.buffer.slice(buf.byteOffset, buf.byteOffset + buf.byteLength)] });
    const json = typeof rsp === 'string' ? JSON.parse(rsp) : rsp;
    const ref = json['00081199'].Value[0];
    out.stored = true;
    out.sopUID = first(ref, '00081155');
    out.warning = first(ref, '00081196');
  } catch (err) {
    out.stored = false;
    out.stowError = String(err && (err.message || err.status || err));
    Object.assign(out, await stowDetail(buf));
    return out;
  }
  const retrieveURL = (await (await fetch(`${url}/instances?SOPInstanceUID=${out.sopUID}`, { headers: auth })).json())[0];
  const study = first(retrieveURL, '0020000D');
  const series = first(retrieveURL, '0020000E');
  const ids = { studyInstanceUID: study, seriesInstanceUID: series, sopInstanceUID: out.sopUID };
  const meta = (await client.retrieveInstanceMetadata(ids))[0];
  out.frames = meta['7FE00010'] ? Number(first(meta, '00280008') || 1) : 0;
  out.rows = first(meta, '00280010');
  out.columns = first(meta, '00280011');
  out.samples = first(meta, '00280002');
  out.bits = first(meta, '00280100');
  out.photometric = first(meta, '00280004');
  if (out.frames > 0) {
    const frameNumbers = Array.from({ length: out.frames }, (_, k) => k + 1);
    try {
      const frames = await client.retrieveInstanceFrames({ ...ids, frameNumbers, mediaTypes: [{ mediaType: 'application/octet-stream', transferSyntaxUID: '*' }] });
      out.anyBytes = frames.map((f) => f.byteLength);
      const raw = await fetch(`${url}/studies/${study}/series/${series}/instances/${out.sopUID}/frames/${frameNumbers.join(',')}`, { headers: { ...auth, Accept: OHIF } });
      out.ohifStatus = raw.status;
      out.ohifTypes = partTypes(Buffer.from(await raw.arrayBuffer()));
    } catch (err) {
      out.anyError = String(err && (err.status || err.message || err));
    }
    try {
      const frames = await client.retrieveInstanceFrames({ ...ids, frameNumbers, mediaTypes: [{ mediaType: 'application/octet-stream', transferSyntaxUID: '1.2.840.10008.1.2.1' }] });
      out.eleBytes = frames.map((f) => f.byteLength);
    } catch (err) {
      out.eleError = String(err && (err.status || err.message || err));
    }
  }
  // As stored: dicomweb-client's retrieveInstance always asks for the default syntax.
  const rsp = await fetch(`${url}/studies/${study}/series/${series}/instances/${out.sopUID}`, { headers: { ...auth, Accept: 'application/dicom; transfer-syntax=*' } });
  const instance = await rsp.arrayBuffer();
  out.retrieved = join(outDir, `${i}.dcm`);
  writeFileSync(out.retrieved, Buffer.from(instance));
  return out;
}

for (const [i, f] of files.entries()) {
  try {
    console.log(JSON.stringify(await one(i, f)));
  } catch (err) {
    console.log(JSON.stringify({ file: f, fatal: String(err && (err.message || err.status || err)) }));
  }
}
