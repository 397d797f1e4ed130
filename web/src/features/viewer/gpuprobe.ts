// Cornerstone's init probes the graphics on the page's thread: a WebGL
// context for the renderer's name, then the texture formats it can sample
// (drawn and read back), which it keeps in localStorage for the next pages.
// Signing out empties that, so the first case after each sign-in paid the
// whole probe in front of its first image: 30-90 ms on the page's thread in
// bench/viewer (session 10), most of it the format probe. probeGraphicsWhenIdle
// runs Cornerstone's own probe (the same module the viewer's chunk uses)
// once signed in, when the page is idle and no case is opening: that case's
// init then finds the formats kept and only opens the context (or, on the
// same page, finds the whole answer in memory). Nothing of the viewer's
// code is loaded for it but the probe's two small modules.

// Cornerstone's key (core utilities/renderingCapabilities.js STORAGE_KEY);
// should it change, the probe merely runs again at the next idle page.
const key = 'cornerstone3D.renderingCapabilities';

let asked = false;

export function probeGraphicsWhenIdle() {
  if (asked || typeof requestIdleCallback !== 'function') return;
  asked = true;
  try {
    if (localStorage.getItem(key)) return;
  } catch {
    return; // no storage: the answer could not be kept
  }
  void import('@cornerstonejs/core/utilities/renderingCapabilities')
    .then((m) => requestIdleCallback(() => void m.getRenderingCapabilities()))
    .catch(() => {});
}
