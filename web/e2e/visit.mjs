// A virtual clinic visit in real browsers (Debian chromium, fake camera
// and microphone): a radiologist creates a single-use patient link from the
// case; the patient, with no account, gives consent and joins; the WebRTC
// call connects with signalling through Lightbox and the patient sees the
// frames the physician shares; the used link is refused the second time.
import { join } from 'node:path';
import { checks, launchPage, signInReader } from './browser.mjs';

const base = process.env.BASE_URL;
const shots = process.env.SHOTS || '/tmp';
const study = process.env.STUDY_UID;
const user = process.env.READER || 'dr.sydney';
const { log, check, fail, finish } = checks();
const media = ['--use-fake-device-for-media-stream', '--use-fake-ui-for-media-stream'];

const { browser: D, page: doc } = await launchPage('physician', log, media);
const { browser: P, page: pat } = await launchPage('patient', log, media);
try {
  await signInReader(doc, base, user);
  await doc.goto(`${base}/case/${encodeURIComponent(study)}`);
  await doc.waitForFunction(() => window.__lightboxViewer?.pane(0)?.rows > 0, null, { timeout: 30000 });
  await doc.getByRole('button', { name: 'Consult', exact: true }).click();
  await doc.getByRole('button', { name: 'Clinic visit' }).click();
  await doc.getByRole('button', { name: 'Create patient link' }).click();
  const link = await doc.getByTestId('visit-link').inputValue();
  check(/\/visit#[A-Za-z0-9_-]{40,}$/.test(link), 'a patient link with its token in the fragment');

  await pat.goto(link);
  await pat.getByLabel('Your name').fill('Pat Example');
  await pat.getByLabel('I consent').check();
  await pat.getByRole('button', { name: 'Join the visit' }).click();
  await pat.getByRole('heading', { name: `Visit with ${user}` }).waitFor();
  check(!pat.url().includes('#'), 'the used token left the address bar');
  await doc.getByTestId('visit-joined').waitFor({ timeout: 10000 });
  check((await doc.getByTestId('visit-joined').textContent()).includes('consent given'), 'the physician sees who joined, when, and the consent');
  const connected = (p) => p.waitForFunction(() => window.__lightboxCall?.pc.connectionState === 'connected', null, { timeout: 20000 }).then(() => true, () => false);
  const [a, b] = await Promise.all([connected(doc), connected(pat)]);
  check(a && b, 'the call between physician and patient connected');
  await pat.getByTestId('visit-frame').waitFor({ timeout: 10000 });
  check(true, "the patient sees the physician's shared view");
  await pat.waitForTimeout(500);
  if (!process.env.README_ONLY) await pat.screenshot({ path: join(shots, 'clinic-visit.png') });

  // The link works once.
  const again = await pat.evaluate((tok) => fetch('/api/visit/join', { method: 'POST', headers: { 'Content-Type': 'application/json' },
    body: JSON.stringify({ token: tok, name: 'Someone else', consent: true }) }).then((r) => r.status), link.split('#')[1]);
  check(again === 410, `the used link is refused (${again})`);
} catch (e) {
  fail(e);
} finally {
  await finish(D, P);
}
