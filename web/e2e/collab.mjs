// Colleagues in real browsers (two Debian chromium instances with fake
// camera and microphone), against a Lightbox the Go test
// (cmd/lightbox/collab_test.go) started with the demo group and a CT:
//  1. the reading room: dr.bravo sets "available", dr.alpha's channel
//     message arrives live on bravo's page;
//  2. dr.alpha asks dr.bravo for a second opinion from the case; bravo is
//     told in-app and opens the same study from the notice's link;
//  3. the case-bound chat round-trips live; bravo records the opinion and
//     alpha sees it;
//  4. shared viewing: alpha presents, bravo's viewer follows the slice and
//     W/L, with the pointer; bravo takes control and alpha follows;
//  5. a WebRTC call with signalling through Lightbox connects;
//  6. break glass on the case page opens a study outside bravo's scope.
import { join } from 'node:path';
import { checks, launchPage, signInReader } from './browser.mjs';

const base = process.env.BASE_URL;
const shots = process.env.SHOTS || '/tmp';
const study = process.env.STUDY_UID;
const readme = ['reading-room-colleagues', 'shared-session'];
const shot = async (page, name) => {
  if (process.env.README_ONLY && !readme.includes(name)) return;
  await page.screenshot({ path: join(shots, `${name}.png`) });
};
const { log, check, fail, finish } = checks();
const media = ['--use-fake-device-for-media-stream', '--use-fake-ui-for-media-stream'];
const pane = (page) => page.evaluate(() => window.__lightboxViewer?.pane(0));

async function openViewer(page, url) {
  await page.goto(url);
  await page.waitForFunction(() => window.__lightboxViewer?.pane(0)?.rows > 0, null, { timeout: 30000 });
}

const { browser: A, page: alpha } = await launchPage('alpha', log, media);
const { browser: B, page: bravo } = await launchPage('bravo', log, media);
try {
  await Promise.all([signInReader(alpha, base, 'dr.alpha'), signInReader(bravo, base, 'dr.bravo')]);

  // 1. The reading room.
  await bravo.goto(base + '/room');
  await bravo.getByLabel('My status').selectOption('available');
  await bravo.getByTestId('member-dr.bravo').getByText('Available for consults').waitFor();
  await alpha.goto(base + '/room');
  await alpha.getByLabel('My status').selectOption('reading');
  await bravo.getByTestId('member-dr.alpha').waitFor({ timeout: 35000 }); // bravo's page reloads on status events
  await alpha.getByLabel('Message to group channel').fill('Anyone free for a head CT tonight?');
  await alpha.getByLabel('Message to group channel').press('Enter');
  await bravo.getByTestId('room-channel').getByText('Anyone free for a head CT tonight?').waitFor({ timeout: 5000 });
  check(true, 'the group channel message reached the other reader live');
  check(await alpha.getByTestId('member-dr.bravo').getByText('Available for consults').count() === 1, 'alpha sees bravo available for consults');
  await shot(bravo, 'reading-room-colleagues');

  // 2. A second opinion from the case.
  await openViewer(alpha, `${base}/case/${encodeURIComponent(study)}`);
  await alpha.getByRole('button', { name: 'Consult', exact: true }).click();
  await alpha.getByRole('button', { name: 'Ask for a second opinion' }).click();
  await alpha.getByLabel('Whom to ask').selectOption('named');
  await alpha.getByLabel('Colleague').fill('dr.bravo');
  await alpha.getByLabel('Question').fill('Subtle hypodensity in the left frontal lobe: early infarct or beam hardening?');
  await alpha.getByRole('button', { name: 'Send request' }).click();
  await alpha.getByTestId('consult').waitFor();
  check((await alpha.getByTestId('consult').textContent()).includes('asks dr.bravo'), 'the request went to dr.bravo');
  const notices = await bravo.evaluate(() => fetch('/api/notices').then((r) => r.json()));
  const notice = (Array.isArray(notices) ? notices : notices.items ?? []).find((n) => /Second opinion requested by dr.alpha/.test(n.subject));
  check(!!notice, `bravo has an in-app notice: ${notice?.subject}`);
  const link = new URL(notice?.link ?? '', base);
  await openViewer(bravo, base + link.pathname + link.search);
  await bravo.getByTestId('consult').waitFor();
  check(true, 'bravo opened the same study from the notice');

  // 3. The thread, live both ways, and the opinion.
  const say = async (page, text) => {
    await page.getByLabel('Message to consult thread').fill(text);
    await page.getByLabel('Message to consult thread').press('Enter');
  };
  await say(alpha, 'See image 7, left frontal cortex.');
  await bravo.getByTestId('consult-thread').getByText('See image 7, left frontal cortex.').waitFor({ timeout: 5000 });
  await say(bravo, 'Looking now.');
  await alpha.getByTestId('consult-thread').getByText('Looking now.').waitFor({ timeout: 5000 });
  check(true, 'the chat round-tripped live between the two browsers');
  await bravo.getByLabel('Your opinion').fill('Beam-hardening artefact next to the skull base; no infarct.');
  await bravo.getByRole('button', { name: 'Record opinion' }).click();
  await alpha.getByTestId('consult-opinion').getByText('Beam-hardening artefact next to the skull base; no infarct.').waitFor({ timeout: 5000 });
  check((await alpha.getByTestId('consult-status').textContent()) === 'answered', 'the opinion is recorded and shown to the requester');

  // 4. Shared viewing: alpha presents; bravo follows slice and W/L.
  await alpha.getByRole('button', { name: 'Present my view' }).click();
  await bravo.getByTestId('share-state').getByText('dr.alpha presents').waitFor({ timeout: 5000 });
  await alpha.getByTestId('viewer-grid').focus();
  for (let k = 0; k < 4; k++) await alpha.keyboard.press('ArrowDown');
  await alpha.keyboard.press('1'); // the first W/L preset
  await alpha.waitForTimeout(300);
  const want = await pane(alpha);
  const t0 = Date.now();
  await bravo.waitForFunction((w) => {
    const p = window.__lightboxViewer?.pane(0);
    return p && p.index === w.index && p.center === w.center && p.width === w.width;
  }, want, { timeout: 5000 }).catch(() => {});
  const got = await pane(bravo);
  check(got.index === want.index && got.center === want.center && got.width === want.width,
    `bravo follows alpha: slice ${got.index + 1}/${want.index + 1}, W ${got.width}/${want.width} L ${got.center}/${want.center} (${Date.now() - t0} ms)`);
  const box = await alpha.getByTestId('pane-0').boundingBox();
  await alpha.mouse.move(box.x + box.width * 0.3, box.y + box.height * 0.4);
  await alpha.mouse.move(box.x + box.width * 0.35, box.y + box.height * 0.45, { steps: 5 });
  await bravo.getByTestId('share-pointer').waitFor({ timeout: 5000 }).then(() => check(true, "alpha's pointer shows on bravo's screen"), fail);
  // A rectangle ROI drawn by alpha shows on bravo's screen with its mean.
  await alpha.getByRole('button', { name: 'Rectangle' }).click();
  await alpha.mouse.move(box.x + box.width * 0.4, box.y + box.height * 0.4);
  await alpha.mouse.down();
  await alpha.mouse.move(box.x + box.width * 0.5, box.y + box.height * 0.5, { steps: 4 });
  await alpha.mouse.move(box.x + box.width * 0.6, box.y + box.height * 0.55, { steps: 4 });
  await alpha.mouse.up();
  await alpha.getByRole('button', { name: 'W/L' }).click();
  const roi = bravo.getByTestId('share-rect');
  await roi.waitFor({ timeout: 5000 }).then(async () => check(/mean/.test(await roi.textContent()), `alpha's rectangle ROI follows on bravo's screen: ${await roi.textContent()}`), fail);
  await shot(bravo, 'shared-session');
  // Bravo takes control; alpha follows.
  await bravo.getByRole('button', { name: 'Take control' }).click();
  await alpha.getByTestId('share-state').getByText('dr.bravo presents').waitFor({ timeout: 5000 });
  await bravo.getByTestId('viewer-grid').focus();
  for (let k = 0; k < 2; k++) await bravo.keyboard.press('ArrowUp');
  await bravo.waitForTimeout(300);
  const b2 = await pane(bravo);
  await alpha.waitForFunction((i) => window.__lightboxViewer?.pane(0)?.index === i, b2.index, { timeout: 5000 }).catch(() => {});
  check((await pane(alpha)).index === b2.index, `after taking control bravo leads: alpha on slice ${(await pane(alpha)).index + 1}, bravo ${b2.index + 1}`);

  // 5. A video call, signalled through Lightbox.
  await alpha.getByRole('button', { name: 'Video call dr.bravo' }).click();
  await bravo.getByRole('button', { name: 'Answer dr.alpha' }).click({ timeout: 10000 });
  const connected = (p) => p.waitForFunction(() => window.__lightboxCall?.pc.connectionState === 'connected', null, { timeout: 15000 }).then(() => true, () => false);
  const [ca, cb] = await Promise.all([connected(alpha), connected(bravo)]);
  check(ca && cb, `WebRTC connected: alpha ${await alpha.evaluate(() => window.__lightboxCall?.pc.connectionState)}, bravo ${await bravo.evaluate(() => window.__lightboxCall?.pc.connectionState)}`);
  const frames = await bravo.evaluate(() => new Promise((res) => setTimeout(async () => {
    const st = await window.__lightboxCall.pc.getStats();
    let n = 0;
    st.forEach((r) => { if (r.type === 'inbound-rtp' && r.kind === 'video') n += r.framesDecoded ?? 0; });
    res(n);
  }, 1500)));
  check(frames > 0, `bravo decodes alpha's (fake) camera: ${frames} frames`);
  await shot(alpha, 'video-call');
  await alpha.getByRole('button', { name: 'Hang up' }).click();

  // 6. Break glass: bravo holds no privileges at HBI; the case page offers
  // emergency access with a reason, then the images open.
  await bravo.goto(`${base}/case/${encodeURIComponent(process.env.OUTSIDE_UID)}`);
  await bravo.getByRole('button', { name: 'Break glass…' }).click({ timeout: 15000 });
  await bravo.getByLabel(/Why must you open/).fill('Trauma call, the on-site reader is unreachable');
  await bravo.getByRole('button', { name: 'Open in an emergency' }).click();
  await bravo.waitForFunction(() => window.__lightboxViewer?.pane(0)?.rows > 0, null, { timeout: 30000 })
    .then(() => check(true, 'break glass with a reason opened a study outside the scope'), fail);
} catch (e) {
  fail(e);
} finally {
  await finish(A, B);
}
