// The reader's choice of the stack viewports' rendering path on this
// browser: 'auto' (Cornerstone's CPU path where WebGL is software-emulated,
// WebGL otherwise: cornerstone.ts), 'cpu' or 'gpu'. It belongs to the
// station's browser (its graphics), so it is kept there, not on the server
// (and, like all the app keeps there, goes at logout: back to 'auto'); a
// ?render= in the page's address overrides it for that page (tests,
// benchmarks, support). No Cornerstone here: the station page reads it
// without loading the viewer.
import { load, remove, save } from '../../storage';

export type RenderPath = 'cpu' | 'gpu';
export type RenderChoice = 'auto' | RenderPath;

const key = 'render';
const choices: RenderChoice[] = ['auto', 'cpu', 'gpu'];

function valid(v: string | null | undefined): RenderChoice | undefined {
  return choices.find((c) => c === v);
}

export function renderChoice(): RenderChoice {
  const url = typeof location === 'undefined' ? null : new URLSearchParams(location.search).get('render');
  return valid(url) ?? storedRenderChoice();
}

export function storedRenderChoice(): RenderChoice {
  return valid(load<string>(key)) ?? 'auto';
}

export function setRenderChoice(c: RenderChoice) {
  if (c === 'auto') remove(key);
  else save(key, c);
}
