import { useState } from 'react';
import { renderChoice, setRenderChoice, storedRenderChoice, type RenderChoice } from '../viewer/renderpath';

const labels: Record<RenderChoice, string> = {
  auto: 'Automatic (the processor where the graphics are emulated in software)',
  cpu: 'The processor',
  gpu: 'The graphics card (WebGL)',
};

// RenderPath: how this browser draws the viewer's images (stack viewports;
// MPR always uses WebGL). It belongs to this station's graphics, so it is
// kept in the browser, not with the server's preferences; the viewer reads
// it once per page load (features/viewer/cornerstone.ts).
export function RenderPath() {
  const [choice, setChoice] = useState<RenderChoice>(storedRenderChoice);
  const now = renderChoice();
  return (
    <section className="panel" aria-labelledby="render-title">
      <h2 id="render-title">Image drawing</h2>
      <label>
        Draw the viewer's images with{' '}
        <select aria-label="Draw the viewer's images with" value={choice} onChange={(e) => {
          const c = e.target.value as RenderChoice;
          setRenderChoice(c);
          setChoice(c);
        }}>
          {(Object.keys(labels) as RenderChoice[]).map((c) => <option key={c} value={c}>{labels[c]}</option>)}
        </select>
      </label>
      {now !== choice && <p className="muted">This page's address asks for {labels[now].toLowerCase()}.</p>}
      <p className="muted">Takes effect the next time a page of Lightbox loads.</p>
    </section>
  );
}
