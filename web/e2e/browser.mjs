// Launch Debian's chromium (never a downloaded browser) with an empty
// profile, headless, with nothing that phones home.
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { chromium } from 'playwright-core';
import { totp } from './totp.mjs';

// extraArgs adds switches (e.g. fake camera and microphone for WebRTC).
export async function launch(executablePath = process.env.CHROMIUM || '/usr/bin/chromium', extraArgs = []) {
  const profile = mkdtempSync(join(tmpdir(), 'lightbox-chromium-'));
  const context = await chromium.launchPersistentContext(profile, {
    executablePath,
    headless: true,
    viewport: { width: 1280, height: 800 },
    args: ['--headless', '--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run', '--disable-background-networking',
      '--disable-component-update', '--disable-sync', ...extraArgs],
  });
  // RENDER (cpu, gpu): the viewer's stack viewports drawn on that path
  // (the reader's choice, features/viewer/renderpath.ts), kept through
  // logouts; unset, the viewer chooses (the CPU path in headless chromium,
  // whose WebGL is SwiftShader's).
  const render = process.env.RENDER;
  if (render) await context.addInitScript((r) => localStorage.setItem('lightbox.render', JSON.stringify(r)), render);
  const close = async () => {
    await context.close();
    rmSync(profile, { recursive: true, force: true });
  };
  return { context, close };
}

// launchPage launches a browser (extraArgs as launch's) and opens its page,
// logging the page's errors under name.
export async function launchPage(name, log, extraArgs = []) {
  const browser = await launch(undefined, extraArgs);
  const page = browser.context.pages()[0] ?? (await browser.context.newPage());
  page.on('pageerror', (e) => log(`${name} page error:`, e.stack));
  return { browser, page };
}

// checks gives a test script its log (each line timed from the start) and
// its checks; finish closes its browsers, prints the verdict and exits
// with it.
export function checks() {
  const t0 = Date.now();
  let failures = 0;
  const log = (...a) => console.log(`[${((Date.now() - t0) / 1000).toFixed(1)}s]`, ...a);
  const check = (ok, what) => {
    if (!ok) failures++;
    log(ok ? 'ok  ' : 'FAIL', what);
  };
  const fail = (e) => {
    failures++;
    log('FAIL', e.stack || e);
  };
  // failShot is fail with a screenshot of the browser's first page, when
  // the browser is still there to take one.
  const failShot = async (e, browser, path) => {
    fail(e);
    try {
      await browser.context.pages()[0]?.screenshot({ path });
    } catch {
      // the browser may be gone
    }
  };
  // finish closes the script's browsers, then prints the verdict and exits.
  const finish = async (...browsers) => {
    for (const b of browsers) await b.close();
    console.log(`${failures === 0 ? 'PASS' : 'FAIL'}: ${failures} failed checks`);
    process.exit(failures === 0 ? 0 : 1);
  };
  return { log, check, fail, failShot, finish };
}

// signInCoordinator signs the demo coordinator in and waits for the board.
export async function signInCoordinator(page, base) {
  await page.goto(base + '/login');
  await page.getByLabel('User name').fill('coordinator');
  await page.getByLabel('Password').fill('lightbox-demo-password');
  // Sign-ins are limited per address (a burst of 10, one more every 6 s):
  // a benchmark that signs in fresh browsers run after run waits out the
  // server's Retry-After rather than waiting for a board that never comes.
  for (let tries = 0; ; tries++) {
    const [res] = await Promise.all([
      page.waitForResponse((r) => r.url().endsWith('/api/login') && r.request().method() === 'POST'),
      page.getByRole('button', { name: 'Sign in' }).click(),
    ]);
    if (res.status() !== 429 || tries >= 5) break;
    await page.waitForTimeout(1000 * Number(res.headers()['retry-after'] ?? 6));
  }
  await page.getByRole('heading', { name: 'Board' }).waitFor();
  await page.locator('table[data-testid=worklist] tbody tr').first().waitFor({ timeout: 60000 });
}

// signInEnrolling: the first login of a demo radiologist enrols the second
// factor (TOTP); confirm() finishes it with a code and waits until signed in.
export async function signInEnrolling(page, base, user, check) {
  await page.goto(base + '/');
  await page.waitForURL(/\/login$/);
  await page.getByLabel('User name').fill(user);
  await page.getByLabel('Password').fill('lightbox-demo-password');
  await page.getByRole('button', { name: 'Sign in' }).click();
  const secretEl = page.getByTestId('totp-secret');
  await secretEl.waitFor();
  const secret = (await secretEl.textContent()).trim();
  const qr = page.getByAltText('QR code for the authenticator app');
  await qr.waitFor();
  check((await qr.getAttribute('src')).startsWith('data:image/png'), `${user}: QR code rendered in the page`);
  return { secret, confirm: async () => {
    await page.getByLabel('Code from the app').fill(totp(secret));
    await page.getByRole('button', { name: 'Confirm and sign in' }).click();
    await page.getByTestId('whoami').waitFor();
    check((await page.getByTestId('whoami').textContent()).includes(user), `${user}: enrolled and signed in`);
  } };
}

// signInReader signs a demo radiologist in, enrolling the second factor
// (TOTP, RFC 6238) on the first login.
export async function signInReader(page, base, user) {
  const s = await signInEnrolling(page, base, user, () => {});
  await s.confirm();
}

// canvasStatsOf: mean and spread of the grey values a canvas shows (the
// first canvas matching selector), and a hash that changes when any pixel
// does.
export function canvasStatsOf(page, selector) {
  return page.evaluate((sel) => {
    const c = document.querySelector(sel);
    if (!c) return null;
    const d = c.getContext('2d').getImageData(0, 0, c.width, c.height).data;
    let sum = 0, sq = 0, h = 0, n = 0;
    for (let k = 0; k < d.length; k += 4) {
      sum += d[k];
      sq += d[k] * d[k];
      h = (h * 31 + d[k]) | 0;
      n++;
    }
    const mean = sum / n;
    return { width: c.width, height: c.height, mean, sd: Math.sqrt(sq / n - mean * mean), hash: h };
  }, selector);
}

// drawnStats waits (up to ms) for a canvas to show an image (grey values
// that vary) and returns its stats: software WebGL on a busy 2-core machine
// can draw seconds after the image has loaded.
export async function drawnStats(page, selector, ms = 20000) {
  for (const until = Date.now() + ms; ; await page.waitForTimeout(250)) {
    const s = await canvasStatsOf(page, selector);
    if (s?.sd > 5 || Date.now() >= until) return s;
  }
}

// menuLink follows a top-bar link grouped under a menu (Group, Quality,
// Admin): it opens the menu, then clicks the link in it.
export async function menuLink(page, menu, name) {
  const nav = page.getByRole('navigation', { name: 'Main' });
  await nav.getByRole('button', { name: menu, exact: true }).click();
  await nav.getByRole('link', { name, exact: true }).click();
}
