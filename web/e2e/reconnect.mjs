// The connection drops under an open board (the Go test restarts the
// server): a banner says so, the app reconnects by itself and resyncs.
import { existsSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { checks, launch, signInCoordinator } from './browser.mjs';

const base = process.env.BASE_URL;
const sync = process.env.SYNC_DIR;
const { check, fail, finish } = checks();

const b = await launch();
try {
  const page = b.context.pages()[0] ?? (await b.context.newPage());
  await signInCoordinator(page, base);
  const before = await page.locator('table[data-testid=worklist] tbody tr').count();
  writeFileSync(join(sync, 'down'), '');
  const banner = page.getByText(/Connection to Lightbox lost/);
  await banner.waitFor({ timeout: 60000 });
  check(true, 'banner shown when the server went away');
  while (!existsSync(join(sync, 'up'))) await page.waitForTimeout(200);
  await banner.waitFor({ state: 'hidden', timeout: 60000 });
  check(true, 'reconnected by itself when the server came back');
  await page.locator('table[data-testid=worklist] tbody tr').first().waitFor({ timeout: 30000 });
  // Resynchronised: the board shows what the server holds now (demo studies
  // may reach the worklist while it was away), and the session still holds.
  const server = () =>
    page.evaluate(async () => {
      const r = await fetch('/api/worklist?board=1');
      return r.ok ? (await r.json()).items.length : -r.status;
    });
  let want = await server();
  let rows = await page.locator('table[data-testid=worklist] tbody tr').count();
  for (let i = 0; i < 50 && rows !== want; i++) {
    await page.waitForTimeout(200);
    want = await server();
    rows = await page.locator('table[data-testid=worklist] tbody tr').count();
  }
  check(want >= before && rows === want, `board resynchronised (${before} rows before, ${rows} after, the server has ${want}), still signed in`);
} catch (e) {
  fail(e);
} finally {
  await finish(b);
}
