// A display test pattern in the spirit of AAPM TG18-QC (AAPM On-line Report
// No. 03, 2005): 18 grey steps from black to white, a 5 % patch on black and
// a 95 % patch on white (low-contrast visibility at both ends), one-pixel
// line pairs horizontal and vertical at centre and corners (resolution), and
// a 100-device-pixel ruler (1:1 pixel mapping: browser zoom or OS scaling
// shows as a ruler that is not 100 screen pixels long).

export const steps = 18;

export function grey(level: number): string {
  const v = Math.round(Math.max(0, Math.min(1, level)) * 255);
  return `rgb(${v},${v},${v})`;
}

// stepLevels: the grey levels of the steps, 0 to 1.
export function stepLevels(n = steps): number[] {
  return Array.from({ length: n }, (_, i) => i / (n - 1));
}

export function drawPattern(ctx: CanvasRenderingContext2D, w: number, h: number, dpr: number) {
  ctx.fillStyle = grey(0.2);
  ctx.fillRect(0, 0, w, h);
  // Grey steps across the middle.
  const levels = stepLevels();
  const sw = Math.floor((w * 0.8) / levels.length);
  const x0 = Math.floor((w - sw * levels.length) / 2);
  const sy = Math.floor(h * 0.4);
  const sh = Math.floor(h * 0.14);
  levels.forEach((l, i) => {
    ctx.fillStyle = grey(l);
    ctx.fillRect(x0 + i * sw, sy, sw, sh);
  });
  // Low-contrast patches: 5 % inside black, 95 % inside white.
  const box = Math.floor(Math.min(w, h) * 0.12);
  const inner = Math.floor(box * 0.4);
  const patch = (x: number, y: number, outer: number, innerLevel: number) => {
    ctx.fillStyle = grey(outer);
    ctx.fillRect(x, y, box, box);
    ctx.fillStyle = grey(innerLevel);
    ctx.fillRect(x + (box - inner) / 2, y + (box - inner) / 2, inner, inner);
  };
  patch(x0, Math.floor(h * 0.12), 0, 0.05);
  patch(x0 + box + 20, Math.floor(h * 0.12), 1, 0.95);
  // Line pairs (one device pixel each) at the centre and the corners.
  const lp = Math.floor(48 * dpr) / dpr;
  const pairs = (x: number, y: number) => {
    for (let i = 0; i < lp * dpr; i++) {
      ctx.fillStyle = i % 2 ? '#000' : '#fff';
      ctx.fillRect(x + i / dpr, y, 1 / dpr, lp / 2);
      ctx.fillRect(x, y + lp / 2 + 4 + i / dpr, lp, 1 / dpr);
    }
  };
  pairs(w / 2 - lp / 2, Math.floor(h * 0.62));
  pairs(8, 8);
  pairs(w - lp - 8, 8);
  pairs(8, h - lp - 12);
  pairs(w - lp - 8, h - lp - 12);
  // Ruler: 100 device pixels with a tick every 10.
  const rx = Math.floor(w * 0.55);
  const ry = Math.floor(h * 0.2);
  ctx.fillStyle = '#fff';
  ctx.fillRect(rx, ry, 100 / dpr, 1 / dpr);
  for (let i = 0; i <= 100; i += 10) ctx.fillRect(rx + i / dpr, ry - (i % 50 ? 4 : 8), 1 / dpr, i % 50 ? 4 : 8);
  ctx.font = '12px sans-serif';
  ctx.fillText('100 device pixels', rx, ry + 16);
}
