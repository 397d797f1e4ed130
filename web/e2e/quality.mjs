// Peer review and a tumor board in Debian's chromium, against a Lightbox the
// Go test (cmd/lightbox/browser_test.go, TestQualityInBrowser) started with
// the demo group and seeded with one peer review for dr.alpha and a key
// image on $BOARD_STUDY:
//  1. dr.alpha enrols TOTP, opens Peer review, scores the case 2a with a
//     comment (RADPEER), and the review closes;
//  2. dr.alpha schedules a tumor board with dr.bravo, adds $BOARD_STUDY
//     (at a facility dr.bravo holds no privileges at), sees the bookmarked
//     key image and dr.bravo's temporary grant, and records presenter notes
//     and the board's recommendation;
//  3. from the case's report, dr.alpha flags an IR candidate (active bleed);
//     the consult goes to the IR on call and is listed under IR consults.
// Screenshots go to $SHOTS (tumor-board.png is the README's).
import { join } from 'node:path';
import { checks, launch, signInEnrolling, menuLink } from './browser.mjs';

const base = process.env.BASE_URL;
const shots = process.env.SHOTS || '/tmp';
const boardStudy = process.env.BOARD_STUDY;
const { log, check, fail, finish } = checks();
const readme = ['tumor-board'];
const shot = async (page, name) => {
  if (process.env.README_ONLY && !readme.includes(name)) return;
  await page.screenshot({ path: join(shots, `${name}.png`) });
};

const b = await launch();
try {
  const page = b.context.pages()[0] ?? (await b.context.newPage());
  page.on('pageerror', (e) => log('page error:', e.message));
  const a = await signInEnrolling(page, base, 'dr.alpha', check);
  await a.confirm();

  // 1. Peer review
  await menuLink(page, 'Quality', 'Peer review');
  await page.getByRole('heading', { name: 'Peer review' }).waitFor();
  const card = page.getByTestId('peer-review').first();
  await card.waitFor();
  check((await card.textContent()).includes('author (anonymous)'), 'the author is hidden from the reviewer');
  await card.getByRole('radio', { name: /2a/ }).check();
  const submit = card.getByRole('button', { name: 'Submit score' });
  check(await submit.isDisabled(), 'a discrepancy cannot be submitted without a comment');
  await card.getByLabel(/Comment/).fill('Missed 4 mm right lower lobe nodule; follow-up per Fleischner.');
  await shot(page, 'peer-review');
  await submit.click();
  await page.getByText('Nothing to review.').waitFor();
  check(true, 'the scored review left the to-review list');

  // 2. Tumor board
  await menuLink(page, 'Quality', 'Tumor boards');
  await page.getByRole('heading', { name: 'Tumor boards' }).waitFor();
  await page.getByLabel('Title').fill('Thoracic oncology board');
  await page.getByLabel('Participants (user names)').fill('dr.bravo');
  await page.getByRole('button', { name: 'Create board' }).click();
  await page.getByRole('heading', { name: 'Thoracic oncology board' }).waitFor();
  check(true, 'board created and opened');
  await page.getByLabel('Study instance UID').fill(boardStudy);
  await page.getByLabel('Notes', { exact: true }).fill('Presented by radiology');
  await page.getByRole('button', { name: 'Add case' }).click();
  const bc = page.getByTestId('board-case').first();
  await bc.waitFor();
  await bc.getByText(/Key images: .*spiculated/).waitFor();
  check(true, 'the case shows the key image bookmarked in the viewer');
  const grant = page.locator('table[aria-label="Access grants"] tbody tr', { hasText: 'dr.bravo' });
  await grant.waitFor();
  check(true, 'dr.bravo (no privileges at the facility) holds a temporary grant');
  await bc.getByLabel('Presenter notes').fill('3.1 cm spiculated right upper lobe mass; no nodal or distant disease on CT.');
  await bc.getByLabel('Board recommendation').fill('PET-CT and tissue sampling; if stage I, lobectomy.');
  await bc.getByRole('button', { name: 'Save case' }).click();
  await bc.getByText('Saved.').waitFor();
  check(true, 'notes and recommendation saved');
  await page.reload();
  await page.getByTestId('board-case').first().waitFor();
  check((await page.getByLabel('Board recommendation').inputValue()).includes('lobectomy'), 'the recommendation is kept');
  await shot(page, 'tumor-board');

  // 3. From the report, an IR candidate: the consult goes to the IR on call.
  await page.goto(`${base}/case/${encodeURIComponent(boardStudy)}`);
  const report = page.getByRole('region', { name: 'Report' });
  await report.getByRole('button', { name: 'IR candidate…' }).click();
  await report.getByRole('combobox', { name: 'IR candidate' }).selectOption('active bleed');
  await report.getByLabel('Question for IR').fill('Active extravasation on arterial phase: embolisation?');
  await report.getByRole('button', { name: 'Send to IR on call' }).click();
  const sent = report.getByTestId('ir-candidate-sent');
  await sent.waitFor();
  check((await sent.textContent()).includes('dr.bravo'), `the IR consult went to the IR on call: ${await sent.textContent()}`);
  await shot(page, 'ir-candidate');
  await sent.getByRole('link', { name: 'IR consults' }).click();
  const irCard = page.getByTestId('ir-consult').filter({ hasText: 'active bleed' });
  await irCard.waitFor();
  check((await irCard.textContent()).includes('IR dr.bravo'), 'the consult is listed with its IR');
} catch (e) {
  fail(e);
} finally {
  await finish(b);
}
