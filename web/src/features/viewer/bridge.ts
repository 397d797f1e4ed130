// The viewer's handle for shared viewing (features/collab): what the first
// pane shows (study, series, slice, W/L, zoom/pan, measurements),
// applying such a state, and converting between the pane's canvas and
// world coordinates for a pointer. The mounted Viewer registers it.
import type { Mark } from './measure';

export interface ViewState {
  study: string;
  series: string;
  index: number;
  lower?: number; // VOI range (W/L)
  upper?: number;
  zoom?: number;
  pan?: [number, number];
  marks?: Mark[]; // length, angle, ellipse, rectangle and probe measurements
}

export interface ViewerHandle {
  state(): ViewState | null;
  apply(s: ViewState): void;
  element(): HTMLElement | null; // the first pane's element
  canvasToWorld(x: number, y: number): [number, number, number] | null;
  worldToCanvas(w: [number, number, number]): [number, number] | null;
  imageToCanvas(col: number, row: number): [number, number] | null;
  snapshot(maxSide: number): string; // the pane as a JPEG data URL ('' when none)
}

let current: ViewerHandle | null = null;
const watchers = new Set<(h: ViewerHandle | null) => void>();

export function registerViewer(h: ViewerHandle | null) {
  current = h;
  watchers.forEach((f) => f(h));
}

export function viewer(): ViewerHandle | null {
  return current;
}

// onViewer calls f with the handle now and whenever a viewer mounts or goes.
export function onViewer(f: (h: ViewerHandle | null) => void): () => void {
  watchers.add(f);
  f(current);
  return () => {
    watchers.delete(f);
  };
}

// sameView reports whether two states would look the same.
export function sameView(a: ViewState | null, b: ViewState | null): boolean {
  return JSON.stringify(a) === JSON.stringify(b);
}
