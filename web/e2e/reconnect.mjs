// The connection drops under an open board (the Go test restarts the
// server): a banner says so, the app reconnects by itself and resyncs.
import { existsSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { launch } from './browser.mjs';

const base = process.env.BASE_URL;
const sync = process.env.SYNC_DIR;
const t0 = Date.now();
const log = (...a) => console.log(`[${((Date.now() - t0) / 1000).toFixed(1)}s]`, ...a);
let failures = 0;
const check = (ok, what) => {
  if (!ok) failures++;
  log(ok ? 'ok  ' : 'FAIL', what);
};

const b = await launch();
try {
  const page = b.context.pages()[0] ?? (await b.context.newPage());
  await page.goto(base + '/login');
  await page.getByLabel('User name').fill('coordinator');
  await page.getByLabel('Password').fill('lightbox-demo-password');
  await page.getByRole('button', { name: 'Sign in' }).click();
  await page.getByRole('heading', { name: 'Board' }).waitFor();
  await page.locator('table[data-testid=worklist] tbody tr').first().waitFor({ timeout: 60000 });
  const before = await page.locator('table[data-testid=worklist] tbody tr').count();
  writeFileSync(join(sync, 'down'), '');
  const banner = page.getByText(/Connection to Lightbox lost/);
  await banner.waitFor({ timeout: 60000 });
  check(true, 'banner shown when the server went away');
  while (!existsSync(join(sync, 'up'))) await page.waitForTimeout(200);
  await banner.waitFor({ state: 'hidden', timeout: 60000 });
  check(true, 'reconnected by itself when the server came back');
  await page.locator('table[data-testid=worklist] tbody tr').first().waitFor({ timeout: 30000 });
  const after = await page.locator('table[data-testid=worklist] tbody tr').count();
  check(after === before, `board resynchronised (${before} rows before, ${after} after), still signed in`);
} catch (e) {
  failures++;
  log('FAIL', e.stack || e);
} finally {
  await b.close();
}
console.log(`${failures === 0 ? 'PASS' : 'FAIL'}: ${failures} failed checks`);
process.exit(failures === 0 ? 0 : 1);
