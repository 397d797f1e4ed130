// The reading station's windows kept in step: the case window (worklist and
// report) announces the case it opens, closes or signs on a BroadcastChannel
// (same origin, same browser profile, so the viewer windows share the
// session cookie and need no second login); each viewer window, one per
// diagnostic monitor, hangs that case or clears itself.
export type StationMessage =
  | { type: 'hang'; study: string }
  | { type: 'clear'; study?: string }
  | { type: 'which' }; // a viewer window that just opened asks for the case

const name = 'lightbox-station';

export function stationChannel(): BroadcastChannel | null {
  return typeof BroadcastChannel === 'undefined' ? null : new BroadcastChannel(name);
}

let shared: BroadcastChannel | null = null;
let current = '';

function post(m: StationMessage) {
  shared ??= stationChannel();
  shared?.postMessage(m);
}

// caseOpened hangs a case across the viewer windows and answers the windows
// that open later.
export function caseOpened(study: string) {
  current = study;
  shared ??= stationChannel();
  if (shared && !shared.onmessage) {
    shared.onmessage = (e: MessageEvent<StationMessage>) => {
      if (e.data?.type === 'which' && current) shared?.postMessage({ type: 'hang', study: current } satisfies StationMessage);
    };
  }
  post({ type: 'hang', study });
}

// caseClosed clears the viewer windows (the case was left, signed or
// released).
export function caseClosed(study: string) {
  if (current === study) current = '';
  post({ type: 'clear', study });
}

export interface Placement {
  left: number;
  top: number;
  width: number;
  height: number;
  label: string;
}

interface ScreenLike {
  availLeft?: number;
  availTop?: number;
  availWidth: number;
  availHeight: number;
  left?: number;
  top?: number;
  label?: string;
  isPrimary?: boolean;
}

// placements: one viewer window per screen other than the one the case
// window is on (the worklist and report stay there); with a single screen,
// one window on it.
export function placements(screens: ScreenLike[], current?: ScreenLike): Placement[] {
  const others = screens.filter((s) => s !== current);
  const use = others.length ? others : screens.slice(0, 1);
  return use.map((s, i) => ({
    left: s.availLeft ?? s.left ?? 0,
    top: s.availTop ?? s.top ?? 0,
    width: s.availWidth,
    height: s.availHeight,
    label: s.label || `Monitor ${i + 1}`,
  }));
}

interface ScreenDetails {
  screens: ScreenLike[];
  currentScreen: ScreenLike;
}

// openViewerWindows opens the viewer windows: placed on the other monitors
// with the Window Management API (getScreenDetails) where the browser
// offers it and the reader allows it, otherwise one window the reader
// moves by hand. Returns how many were opened.
export async function openViewerWindows(count = 0): Promise<number> {
  let spots: Placement[] = [];
  const w = window as unknown as { getScreenDetails?: () => Promise<ScreenDetails> };
  if (w.getScreenDetails) {
    try {
      const d = await w.getScreenDetails();
      spots = placements(d.screens, d.currentScreen);
    } catch {
      // permission refused: by hand
    }
  }
  if (!spots.length) spots = [{ left: 40, top: 40, width: Math.round(screen.availWidth * 0.8), height: Math.round(screen.availHeight * 0.8), label: 'Viewer' }];
  if (count > 0) spots = spots.slice(0, count);
  spots.forEach((p, i) => {
    window.open(`/viewer?monitor=${i + 1}`, `lightbox-viewer-${i + 1}`,
      `popup,left=${p.left},top=${p.top},width=${p.width},height=${p.height}`);
  });
  return spots.length;
}
