// Automatic logoff in the browser: a coordinator signs in (board), the
// warning appears a minute before the server's idle timeout, "Stay signed
// in" extends the session, and left alone the app signs out by itself and
// the server refuses the old session.
import { join } from 'node:path';
import { checks, launch, signInCoordinator } from './browser.mjs';

const base = process.env.BASE_URL;
const shots = process.env.SHOTS || '/tmp';
const { check, fail, finish } = checks();

const b = await launch();
try {
  const page = b.context.pages()[0] ?? (await b.context.newPage());
  await signInCoordinator(page, base);
  check((await page.getByRole('button', { name: 'Reassign' }).count()) > 0, 'the board lists studies with Reassign');
  if (!process.env.README_ONLY) await page.screenshot({ path: join(shots, 'board.png') });

  const warning = page.getByRole('alertdialog', { name: 'Still reading?' });
  await warning.waitFor({ timeout: 90000 });
  const left = Number(await page.getByTestId('idle-seconds').textContent());
  check(left > 0 && left <= 60, `idle warning shown ${left} s before logoff`);
  if (!process.env.README_ONLY) await page.screenshot({ path: join(shots, 'idle.png') });
  await warning.getByRole('button', { name: 'Stay signed in' }).click();
  await warning.waitFor({ state: 'hidden', timeout: 5000 });
  check(true, '"Stay signed in" extended the session');

  await page.getByText('You were signed out after a period of inactivity.').waitFor({ timeout: 120000 });
  check(true, 'signed out automatically when idle');
  const status = await page.evaluate(async () => (await fetch('/api/worklist?board=1')).status);
  check(status === 401, `the server ended the session too (${status})`);
  check(await page.evaluate(() => localStorage.length === 0 && sessionStorage.length === 0), 'browser storage empty');

  // A browser that closed without logging out (a crash) left a draft
  // behind: the app, finding no session when it next loads, removes it.
  await page.evaluate(() => localStorage.setItem('lightbox.draft.crashed', JSON.stringify({ findings: 'left by a crash' })));
  await page.goto(base + '/');
  await page.getByRole('button', { name: 'Sign in' }).waitFor();
  const gone = await page.waitForFunction(() => localStorage.length === 0, null, { timeout: 5000 }).then(() => true, () => false);
  check(gone, `a draft left by a crashed browser is removed when the app loads without a session (${await page.evaluate(() => localStorage.length)} keys left)`);
} catch (e) {
  fail(e);
} finally {
  await finish(b);
}
