// The diagnostic viewer (Cornerstone3D stack viewports): series
// thumbnails, stack scroll by wheel and keys, window/level by drag and
// presets, zoom/pan, invert, reset, corner overlays, length measurement,
// key images saved with the study, and a prior hung beside the current
// study, scrolled in step by slice position.
import { useCallback, useEffect, useMemo, useRef, useState } from 'react';
import { cache, Enums, metaData, RenderingEngine, type Types, utilities as csUtils } from '@cornerstonejs/core';
import * as tools from '@cornerstonejs/tools';
import type { DicomJSON } from '../../api/types';
import { tag } from '../../api/client';
import { enableStack, initCornerstone, newStackEngine } from './cornerstone';
import { fillStack, streamsDone } from './bulk';
import { afterFirstImage, caseOpening, frameComing, imageDrawn } from './frames';
import { loadStack, priorsOf, seriesList, thumbnailURL, type Stack } from './dicomweb';
import { centerWidth, presetsFor, voiRange } from './presets';
import { nearest } from './stack';
import { KeyImages, type KeyImagesHandle } from './KeyImages';
import { lengthAnnotations, sharedMarks } from './measure';
import { firstSeries as openingSeries } from './metadata';
import { prefetchAssigned } from './prefetch';
import { SeriesThumb } from './SeriesThumb';
import { TagBrowser } from './TagBrowser';
import { registerViewer } from './bridge';
import { hangMG4up, hangMR2x2, protocolFor, protocolKeys, protocols, type HangPane, type MGImage } from './hanging';
import { Mpr } from './Mpr';
import { usePrefs } from '../station/prefs';
import './viewer.css';

type Tool = 'wl' | 'pan' | 'zoom' | 'length' | 'angle' | 'ellipse' | 'rect' | 'probe';
const toolLabels: Record<Tool, string> = {
  wl: 'W/L', pan: 'Pan', zoom: 'Zoom', length: 'Length', angle: 'Angle', ellipse: 'Ellipse', rect: 'Rectangle', probe: 'Probe',
};
// Measurement tools stay passive (their drawings can be edited) when
// another tool has the left button.
const measuring: Tool[] = ['length', 'angle', 'ellipse', 'rect', 'probe'];
const toolNames: Record<Tool, string> = {
  wl: tools.WindowLevelTool.toolName,
  pan: tools.PanTool.toolName,
  zoom: tools.ZoomTool.toolName,
  length: tools.LengthTool.toolName,
  angle: tools.AngleTool.toolName,
  ellipse: tools.EllipticalROITool.toolName,
  rect: tools.RectangleROITool.toolName,
  probe: tools.ProbeTool.toolName,
};

type PaneSpec = HangPane;

let seq = 0;
let engine: Promise<RenderingEngine> | null = null;
// made is the engine once made: a viewer mounting after it (a prefetched
// case, the next case) renders its panes in its first render instead of
// one promise turn and one render later.
let made: RenderingEngine | null = null;

// warmViewer starts Cornerstone and the page's one rendering engine: its
// WebGL contexts, and the shaders compiled in them, serve every case (in
// software WebGL a new engine's first image waited on compiling them
// again). startCase (LazyViewer.tsx) calls it as soon as this chunk is in,
// so the engine is made while the case's first requests are on the wire.
export function warmViewer(): Promise<RenderingEngine> {
  engine ??= initCornerstone().then(() => {
    performance.mark('lb:cornerstone');
    const e = newStackEngine('lb-engine');
    performance.mark('lb:engine');
    made = e;
    return e;
  });
  engine.catch(() => (engine = null));
  return engine;
}

// toolGroup is the viewer's tool group, made with its standing bindings on
// first use: a pane mounting with the viewer adds its viewport in its own
// effect, which runs before the viewer's.
function toolGroup(id: string) {
  const have = tools.ToolGroupManager.getToolGroup(id);
  if (have) return have;
  const g = tools.ToolGroupManager.createToolGroup(id);
  if (g) {
    Object.values(toolNames).forEach((n) => g.addTool(n));
    g.addTool(tools.StackScrollTool.toolName);
    g.setToolActive(tools.StackScrollTool.toolName, { bindings: [{ mouseButton: tools.Enums.MouseBindings.Wheel }] });
    g.setToolActive(toolNames.pan, { bindings: [{ mouseButton: tools.Enums.MouseBindings.Auxiliary }] });
    g.setToolActive(toolNames.zoom, { bindings: [{ mouseButton: tools.Enums.MouseBindings.Secondary }] });
  }
  return g;
}

// earlyPanes is the hanging the first image needs: the opening series
// alone, where the protocol starts with it (not MR 2×2 or mammography).
function earlyPanes(study: string, series: DicomJSON[]): PaneSpec[] {
  const first = openingSeries(series);
  if (!first || ['MG', 'MR'].includes(tag(first, '00080060'))) return [];
  return [{ study, series: tag(first, '0020000E') }];
}

export function Viewer({ study, series }: { study: string; series: DicomJSON[] }) {
  const ids = useMemo(() => {
    seq++;
    // A prefetched case's viewer mounts before the case page's effects run
    // (frames.ts afterFirstImage): its opening starts here.
    caseOpening();
    return { group: `lb-tools-${seq}` };
  }, []);
  const [engine, setEngine] = useState<RenderingEngine | null>(() => made);
  const [failed, setFailed] = useState('');
  const [panes, setPanes] = useState<PaneSpec[]>(() => earlyPanes(study, series));
  const [active, setActive] = useState(0);
  const [tool, setTool] = useState<Tool>('wl');
  const [overlays, setOverlays] = useState(true);
  const [cine, setCine] = useState(0); // frames per second, 0 = stopped
  const [fps, setFps] = useState(10);
  const [tagsOpen, setTagsOpen] = useState(false);
  const [priors, setPriors] = useState<DicomJSON[]>([]);
  const [priorSeries, setPriorSeries] = useState<DicomJSON[]>([]);
  const [mpr, setMpr] = useState<{ imageIds: string[]; window?: { center: number; width: number } } | null>(null);
  const [protocol, setProtocol] = useState('');
  const [protocolKey, setProtocolKey] = useState('');
  const { prefs, loaded: prefsLoaded, save: savePrefs } = usePrefs();
  const keyImages = useRef<KeyImagesHandle>(null);
  const rootRef = useRef<HTMLDivElement>(null);

  useEffect(() => {
    let alive = true;
    performance.mark('lb:viewer');
    warmViewer()
      .then((eng) => {
        if (!alive) return;
        toolGroup(ids.group);
        setEngine(eng);
      })
      .catch((e) => setFailed(String(e)));
    return () => {
      alive = false;
      tools.ToolGroupManager.destroyToolGroup(ids.group);
    };
  }, [ids]);

  // The first image is drawn before the primary tool is bound: binding it
  // makes its cursor for every viewport (an SVG turned into a Blob), ≈ 40 ms
  // of the page's thread in front of the first image in a bench profile.
  // Should no pane draw, the tools are bound a moment later all the same.
  const [drawn, setDrawn] = useState(false);
  useEffect(() => {
    const t = setTimeout(() => setDrawn(true), 3000);
    return () => clearTimeout(t);
  }, []);

  // The primary tool (left button) is the one picked in the toolbar.
  useEffect(() => {
    const g = tools.ToolGroupManager.getToolGroup(ids.group);
    if (!engine || !g || !drawn) return;
    (Object.keys(toolNames) as Tool[]).forEach((t) => {
      const n = toolNames[t];
      if (t === tool) g.setToolActive(n, { bindings: [{ mouseButton: tools.Enums.MouseBindings.Primary }] });
      else if (t === 'pan') g.setToolActive(n, { bindings: [{ mouseButton: tools.Enums.MouseBindings.Auxiliary }] });
      else if (t === 'zoom') g.setToolActive(n, { bindings: [{ mouseButton: tools.Enums.MouseBindings.Secondary }] });
      else if (measuring.includes(t)) g.setToolPassive(n);
      else g.setToolDisabled(n);
    });
  }, [engine, tool, ids, drawn]);

  // The hanging protocol arranges the panes when the case opens: by the
  // first series' modality and body part and the reader's preference.
  useEffect(() => {
    let alive = true;
    const first = openingSeries(series);
    if (!first) return;
    const firstPane = { study, series: tag(first, '0020000E') };
    const modality = tag(first, '00080060');
    // The first image needs only this series: it hangs at once where the
    // protocol starts with it, and the priors join when they are known.
    const early = earlyPanes(study, series)[0] ?? null;
    if (early) setPanes((p) => (p.length ? p : [early]));
    // The rest waits for the reader's hanging preference: the viewer can
    // now be up before it arrives, and a default hanging replaced by the
    // reader's would keep its extra panes.
    if (!prefsLoaded) return;
    const isEarly = (p: PaneSpec[]) => p.length === 1 && early !== null && p[0].study === early.study && p[0].series === early.series &&
      !p[0].sop && !p[0].flip && !p[0].label;
    (async () => {
      // With the opening series hung, the priors can wait for its image.
      if (early) await afterFirstImage();
      const st = await loadStack(study, firstPane.series).catch(() => null);
      const part = st?.instances[0] ? tag(st.instances[0], '00180015') : '';
      const ranked = await priorsOf(study, part).catch(() => [] as DicomJSON[]);
      if (!alive) return;
      setPriors(ranked);
      const proto = protocolFor(modality, part, prefs.hanging);
      const hang = await hangingFor(proto, study, firstPane, series, ranked).catch(() => [firstPane]);
      if (!alive) return;
      setProtocol(proto);
      setProtocolKey(protocolKeys(modality, part)[0]);
      setPanes((p) => (p.length === 0 || isEarly(p) ? hang : p));
    })();
    return () => {
      alive = false;
    };
  }, [series, study, prefs.hanging, prefsLoaded]);

  // Once this case is on screen, the next assigned cases come in behind it
  // (and cases assigned while it stays open, checked every 15 s).
  useEffect(() => {
    if (!engine) return;
    const run = () => void prefetchAssigned(study).catch(() => {});
    // Not before this case's own series are in (bulk.ts).
    const later = () => void streamsDone().then(run);
    const first = setTimeout(later, 2000);
    const again = setInterval(later, 15000);
    return () => {
      clearTimeout(first);
      clearInterval(again);
    };
  }, [engine, study]);

  const viewportOf = useCallback(
    (i: number) => engine?.getViewport(`pane-${i}`) as Types.IStackViewport | undefined,
    [engine],
  );

  const hangPrior = async (prior: string) => {
    const ss = await seriesList(prior);
    setPriorSeries(ss);
    const cur = series.find((s) => tag(s, '0020000E') === panes[0]?.series);
    const best = bestMatch(cur, ss);
    if (best) setPanes((p) => [{ ...p[0], flip: undefined, sop: undefined }, { study: prior, series: tag(best, '0020000E') }]);
  };

  // Cine: the active pane steps through its stack at the chosen rate, looping.
  useEffect(() => {
    if (!cine) return;
    const t = setInterval(() => {
      const vp = viewportOf(active);
      if (!vp) return;
      const n = vp.getImageIds().length;
      void vp.setImageIdIndex((vp.getCurrentImageIdIndex() + 1) % Math.max(1, n));
    }, 1000 / cine);
    return () => clearInterval(t);
  }, [cine, active, viewportOf]);

  // layout hangs n panes: those shown stay, the study's other series fill
  // the rest (the first series again when there are fewer).
  const layout = (n: number) =>
    setPanes((p) => {
      if (n === p.length) return p;
      const out = p.slice(0, n);
      const shown = new Set(out.map((x) => x.series));
      const rest = series.map((s) => tag(s, '0020000E')).filter((u) => !shown.has(u));
      while (out.length < n) out.push({ study, series: rest.shift() ?? out[0]?.series ?? '' });
      return out;
    });

  const act = (f: (vp: Types.IStackViewport) => void) => {
    const vp = viewportOf(active);
    if (!vp) return;
    f(vp);
    vp.render();
  };
  const scrollBy = (d: number) => act((vp) => void csUtils.scroll(vp, { delta: d }));
  const jump = (i: number) => act((vp) => void vp.setImageIdIndex(Math.max(0, Math.min(vp.getImageIds().length - 1, i))));
  const preset = (center: number, width: number) => act((vp) => vp.setProperties({ voiRange: voiRange(center, width) }));
  const invert = () => act((vp) => vp.setProperties({ invert: !vp.getProperties().invert }));
  const reset = () =>
    act((vp) => {
      vp.resetProperties();
      vp.resetCamera();
    });

  const modality = panes[active] ? tag(seriesOf(panes[active], series, priorSeries) ?? {}, '00080060') : '';
  const presets = presetsFor(modality);

  const onKey = (e: React.KeyboardEvent) => {
    if (e.ctrlKey || e.altKey || e.metaKey) return;
    const k = e.key;
    const handled = (() => {
      switch (k) {
        case 'ArrowUp': case 'ArrowLeft': scrollBy(-1); return true;
        case 'ArrowDown': case 'ArrowRight': scrollBy(1); return true;
        case 'PageUp': scrollBy(-10); return true;
        case 'PageDown': scrollBy(10); return true;
        case 'Home': jump(0); return true;
        case 'End': jump(1e9); return true;
        case 'r': case 'R': reset(); return true;
        case 'i': case 'I': invert(); return true;
        case 'o': case 'O': setOverlays((v) => !v); return true;
        case 'w': case 'W': setTool('wl'); return true;
        case 'p': case 'P': setTool('pan'); return true;
        case 'z': case 'Z': setTool('zoom'); return true;
        case 'l': case 'L': setTool('length'); return true;
        case 'k': case 'K': keyImages.current?.toggle(); return true;
        case 'c': case 'C': setCine((c) => (c ? 0 : fps)); return true;
        case 't': case 'T': setTagsOpen((v) => !v); return true;
      }
      const n = Number(k);
      if (n >= 1 && n <= presets.length) {
        preset(presets[n - 1].center, presets[n - 1].width);
        return true;
      }
      return false;
    })();
    if (handled) e.preventDefault();
  };

  // Panes scroll in step by slice position (mm along the normal), not by
  // index: each pane follows the one scrolled to its nearest slice.
  useEffect(() => {
    if (!engine || panes.length < 2) return;
    let following = false;
    const vps = panes.map((_, i) => engine.getViewport(`pane-${i}`) as Types.IStackViewport | undefined);
    const offs = vps.map((vp, i) => {
      if (!vp) return () => {};
      const h = () => {
        if (following) return;
        const pos = paneInfo(vp)?.position ?? NaN;
        if (!Number.isFinite(pos)) return;
        following = true;
        vps.forEach((o, j) => {
          if (j === i || !o || !o.getImageIds().length) return;
          const k = nearest(stackPositions.get(o.getImageIds()[0]) ?? [], pos);
          if (k >= 0 && k !== o.getCurrentImageIdIndex()) void o.setImageIdIndex(k);
        });
        following = false;
      };
      vp.element.addEventListener(Enums.Events.STACK_NEW_IMAGE, h);
      return () => vp.element.removeEventListener(Enums.Events.STACK_NEW_IMAGE, h);
    });
    return () => offs.forEach((f) => f());
  }, [engine, panes]);

  // Test and automation hook: the state a browser test cannot read from
  // pixels alone (current slice, stored value at a point, measurements).
  useEffect(() => {
    if (!engine) return;
    (window as unknown as Record<string, unknown>).__lightboxViewer = {
      pane: (i = 0) => paneInfo(viewportOf(i)),
      probe: (i: number, col: number, row: number) => probeValue(viewportOf(i), col, row),
      samples: (i: number, col: number, row: number) => samplesAt(viewportOf(i), col, row),
      // Hangs the given panes (the corpus test shows one instance at a time).
      hang: (specs: PaneSpec[]) => setPanes(specs),
      imageToCanvas: (i: number, col: number, row: number) => {
        const vp = viewportOf(i);
        const id = vp?.getCurrentImageId();
        if (!vp || !id) return null;
        const w = csUtils.imageToWorldCoords(id, [col, row]);
        return w ? vp.worldToCanvas(w) : null;
      },
      lengths: () => lengthAnnotations(),
      // Every measurement's tool and statistics.
      annotations: () => (tools.annotation.state.getAllAnnotations() ?? []).map((a) => ({ tool: a.metadata?.toolName, stats: a.data.cachedStats })),
      plane: (i = 0) => {
        const vp = viewportOf(i);
        const id = vp?.getCurrentImageId();
        return id ? { plane: metaData.get('imagePlaneModule', id), spacing: vp?.getImageData()?.spacing, calibration: vp?.getCornerstoneImage()?.calibration } : null;
      },
      positions: (i = 0) => (viewportOf(i) ? stackPositions.get(viewportOf(i)!.getImageIds()[0]) : undefined),
      // How many of the pane's images are decoded in the cache (bench/viewer).
      loaded: (i = 0) => (viewportOf(i)?.getImageIds() ?? []).filter((id) => cache.isLoaded(id)).length,
    };
    return () => {
      delete (window as unknown as Record<string, unknown>).__lightboxViewer;
    };
  }, [engine, viewportOf]);

  // Shared viewing (features/collab): the first pane's state, read and set.
  const firstSeries = panes[0]?.series ?? '';
  useEffect(() => {
    if (!engine) return;
    const r2 = (v: number) => Math.round(v * 100) / 100;
    registerViewer({
      state: () => {
        const vp = viewportOf(0);
        if (!vp || !vp.getImageIds().length) return null;
        const voi = vp.getProperties().voiRange;
        const pan = vp.getPan();
        const id = vp.getCurrentImageId();
        return {
          study, series: firstSeries, index: vp.getCurrentImageIdIndex(), lower: voi ? r2(voi.lower) : undefined, upper: voi ? r2(voi.upper) : undefined,
          zoom: r2(vp.getZoom()), pan: [r2(pan[0]), r2(pan[1])],
          marks: sharedMarks(id),
        };
      },
      apply: (s) => {
        if (s.study !== study) return;
        if (s.series && s.series !== firstSeries) {
          setPanes((p) => [{ study, series: s.series }, ...p.slice(1)]);
          return; // the next state applies once the series hangs
        }
        const vp = viewportOf(0);
        if (!vp || !vp.getImageIds().length) return;
        if (s.lower !== undefined && s.upper !== undefined) vp.setProperties({ voiRange: { lower: s.lower, upper: s.upper } });
        if (s.zoom) vp.setZoom(s.zoom);
        if (s.pan) vp.setPan(s.pan);
        if (s.index !== vp.getCurrentImageIdIndex()) void vp.setImageIdIndex(Math.max(0, Math.min(vp.getImageIds().length - 1, s.index)));
        vp.render();
      },
      element: () => viewportOf(0)?.element ?? null,
      canvasToWorld: (x, y) => {
        const w = viewportOf(0)?.canvasToWorld([x, y]);
        return w ? [w[0], w[1], w[2]] : null;
      },
      worldToCanvas: (w) => {
        const c = viewportOf(0)?.worldToCanvas(w);
        return c ? [c[0], c[1]] : null;
      },
      imageToCanvas: (col, row) => {
        const vp = viewportOf(0);
        const id = vp?.getCurrentImageId();
        const w = id ? csUtils.imageToWorldCoords(id, [col, row]) : undefined;
        const c = w ? vp!.worldToCanvas(w) : undefined;
        return c ? [c[0], c[1]] : null;
      },
      snapshot: (maxSide) => {
        const c = viewportOf(0)?.canvas;
        if (!c || !c.width) return '';
        const k = Math.min(1, maxSide / Math.max(c.width, c.height));
        const out = document.createElement('canvas');
        out.width = Math.round(c.width * k);
        out.height = Math.round(c.height * k);
        out.getContext('2d')?.drawImage(c, 0, 0, out.width, out.height);
        return out.toDataURL('image/jpeg', 0.7);
      },
    });
    return () => registerViewer(null);
  }, [engine, viewportOf, study, firstSeries]);

  const grid = panes.length > 4 ? 'grid-2x4' : panes.length === 3 ? 'grid-1x3' : panes.length > 2 ? 'grid-2x2' : panes.length > 1 ? 'grid-1x2' : 'grid-1x1';
  // MPR of the active pane's series (CT and MR volumes of 3 slices or more).
  const openMpr = () => {
    const vp = viewportOf(active);
    const ids = vp?.getImageIds() ?? [];
    const pos = ids.length ? stackPositions.get(ids[0]) ?? [] : [];
    if (ids.length < 3 || !pos.every(Number.isFinite)) return;
    const info = paneInfo(vp);
    setMpr({ imageIds: ids, window: info && Number.isFinite(info.width) ? { center: info.center, width: info.width } : undefined });
  };
  const canMpr = (modality === 'CT' || modality === 'MR') && !panes[active]?.sop;
  return (
    <section className="viewer" aria-label="Viewer" data-slot="viewer">
      <aside className="viewer-side">
        <h3>Series</h3>
        <ul className="viewer-thumbs">
          {series.map((s) => {
            const uid = tag(s, '0020000E');
            return (
              <li key={uid} className="series-card">
                <button
                  className={panes[active]?.series === uid ? 'on' : ''}
                  onClick={() => setPanes((p) => p.map((x, i) => (i === active ? { study, series: uid } : x)))}
                  title={tag(s, '0008103E')}
                >
                  <SeriesThumb src={thumbnailURL(study, uid)} label={`Series ${tag(s, '00200011')}`} modality={tag(s, '00080060')} />
                  <span className="small">{tag(s, '00080060')} {tag(s, '00200011')} · {tag(s, '00201209')}</span>
                </button>
              </li>
            );
          })}
        </ul>
        <h3>Priors</h3>
        {priors.length === 0 && <p className="muted small">None in scope.</p>}
        <ul className="viewer-priors" data-testid="priors">
          {priors.map((p) => {
            const uid = tag(p, '0020000D');
            return (
              <li key={uid}>
                <button onClick={() => void hangPrior(uid)} data-study={uid} className={panes[1]?.study === uid ? 'on' : ''}>
                  {fmtDate(tag(p, '00080020'))} {tag(p, '00080061') || tag(p, '00080060')} <span className="muted">{tag(p, '00081030')}</span>
                </button>
              </li>
            );
          })}
        </ul>
        {panes.length > 1 && <button onClick={() => { setPanes((p) => p.slice(0, 1)); setActive(0); }}>Close prior</button>}
        <KeyImages ref={keyImages} study={study} viewport={() => viewportOf(active)} />
      </aside>
      <div className="viewer-main">
        <div className="viewer-tools" role="toolbar" aria-label="Viewer tools">
          {(Object.keys(toolLabels) as Tool[]).map((t) => (
            <button key={t} aria-pressed={tool === t} onClick={() => setTool(t)}>
              {toolLabels[t]}
            </button>
          ))}
          <button onClick={invert}>Invert</button>
          <button onClick={reset}>Reset</button>
          <button aria-pressed={overlays} onClick={() => setOverlays((v) => !v)}>Overlays</button>
          {presets.length > 0 && (
            <select aria-label="Window preset" value="" onChange={(e) => {
              const p = presets[Number(e.target.value)];
              if (p) preset(p.center, p.width);
            }}>
              <option value="">Preset…</option>
              {presets.map((p, i) => <option key={p.name} value={i}>{i + 1} {p.name} {p.center}/{p.width}</option>)}
            </select>
          )}
          <button onClick={() => keyImages.current?.toggle()}>Key image</button>
          <button aria-pressed={tagsOpen} onClick={() => setTagsOpen((v) => !v)}>Tags</button>
          <button aria-pressed={cine > 0} onClick={() => setCine((c) => (c ? 0 : fps))}>Cine</button>
          <select aria-label="Cine rate" value={fps} onChange={(e) => {
            setFps(Number(e.target.value));
            setCine((c) => (c ? Number(e.target.value) : 0));
          }}>
            {[2, 5, 10, 15, 25, 30].map((f) => <option key={f} value={f}>{f} fps</option>)}
          </select>
          <select aria-label="Layout" value={panes.length} onChange={(e) => layout(Number(e.target.value))}>
            <option value={1}>1×1</option>
            <option value={2}>1×2</option>
            <option value={3}>1×3</option>
            <option value={4}>2×2</option>
            {panes.length > 4 && <option value={panes.length}>2×4</option>}
          </select>
          <select aria-label="Hanging protocol" disabled={!prefsLoaded} value={protocol} title={`Your hanging for ${protocolKey}`} onChange={(e) => {
            // The reader's choice for this modality (and body part) is saved
            // in the station preferences and hangs the case again.
            const v = e.target.value;
            setPanes([]);
            void savePrefs({ ...prefs, hanging: { ...prefs.hanging, [protocolKey]: v } });
          }}>
            {protocols.map((p) => <option key={p.id} value={p.id}>{p.label}</option>)}
          </select>
          <button disabled={!canMpr} aria-pressed={!!mpr} onClick={() => (mpr ? setMpr(null) : openMpr())}>MPR</button>
        </div>
        {failed && <p className="error">The viewer could not start: {failed}</p>}
        {mpr && <Mpr imageIds={mpr.imageIds} window={mpr.window} onClose={() => setMpr(null)} />}
        <div ref={rootRef} className={`viewer-grid ${grid}`} tabIndex={0} onKeyDown={onKey} data-testid="viewer-grid" data-protocol={protocol}
          hidden={!!mpr}>
          {engine && panes.map((p, i) => (
            <Pane key={i} index={i} engine={engine} group={ids.group} spec={p} active={i === active} overlays={overlays} tags={tagsOpen && i === active}
              onFocus={() => setActive(i)} onDrawn={() => setDrawn(true)} />
          ))}
        </div>
      </div>
    </section>
  );
}

// bestMatch: the prior's series most like the current one (same modality
// and description first).
function bestMatch(cur: DicomJSON | undefined, ss: DicomJSON[]): DicomJSON | undefined {
  const score = (s: DicomJSON) =>
    (tag(s, '00080060') === tag(cur ?? {}, '00080060') ? 2 : 0) + (tag(s, '0008103E') === tag(cur ?? {}, '0008103E') ? 1 : 0);
  return [...ss].sort((a, b) => score(b) - score(a))[0];
}

// mgImages: every image of a study's MG series, for the 4-up hanging.
async function mgImages(study: string, ss: DicomJSON[]): Promise<MGImage[]> {
  const out: MGImage[] = [];
  for (const s of ss.filter((x) => tag(x, '00080060') === 'MG')) {
    const st = await loadStack(study, tag(s, '0020000E'));
    const seen = new Set<string>();
    st.instances.forEach((inst) => {
      const sop = tag(inst, '00080018');
      if (!seen.has(sop)) out.push({ study, series: st.series, inst });
      seen.add(sop);
    });
  }
  return out;
}

// hangingFor turns a protocol into panes; a protocol the study cannot fill
// falls back to the first series alone.
async function hangingFor(proto: string, study: string, first: PaneSpec, series: DicomJSON[], ranked: DicomJSON[]): Promise<PaneSpec[]> {
  const modality = series.find((s) => tag(s, '0020000E') === first.series)?.['00080060']?.Value?.[0];
  const prior = ranked.find((p) => (p['00080061']?.Value ?? p['00080060']?.Value ?? []).includes(modality));
  switch (proto) {
    case 'mr-2x2': {
      const h = hangMR2x2(study, series);
      return h.length > 1 ? h : [first];
    }
    case 'mg-4up': {
      const cur = await mgImages(study, series);
      const old = prior ? await mgImages(tag(prior, '0020000D'), await seriesList(tag(prior, '0020000D'))) : [];
      const h = hangMG4up(cur, old);
      return h.length > 1 ? h : [first];
    }
    case 'prior-beside': {
      if (!prior) return [first];
      const best = bestMatch(series.find((s) => tag(s, '0020000E') === first.series), await seriesList(tag(prior, '0020000D')));
      return best ? [first, { study: tag(prior, '0020000D'), series: tag(best, '0020000E') }] : [first];
    }
  }
  return [first];
}

function seriesOf(p: PaneSpec, cur: DicomJSON[], prior: DicomJSON[]) {
  return [...cur, ...prior].find((s) => tag(s, '0020000E') === p.series);
}

const stackPositions = new Map<string, number[]>();

interface Info {
  index: number;
  count: number;
  rows: number;
  columns: number;
  center: number;
  width: number;
  invert: boolean;
  zoom: number;
  position: number;
  imageId: string;
  shown: string; // the image on display (imageId until it has loaded)
}

function paneInfo(vp?: Types.IStackViewport): Info | null {
  if (!vp) return null;
  const img = vp.getCornerstoneImage();
  const ids = vp.getImageIds();
  const props = vp.getProperties();
  const cw = props.voiRange ? centerWidth(props.voiRange) : { center: NaN, width: NaN };
  const idx = vp.getCurrentImageIdIndex();
  return {
    index: idx, count: ids.length, rows: img?.rows ?? 0, columns: img?.columns ?? 0, center: cw.center, width: cw.width,
    invert: !!props.invert, zoom: vp.getZoom(), position: stackPositions.get(ids[0])?.[idx] ?? NaN, imageId: ids[idx] ?? '',
    shown: img?.imageId ?? '',
  };
}

// probeValue is the modality value (e.g. HU) stored at a pixel of the
// image on display.
function probeValue(vp: Types.IStackViewport | undefined, col: number, row: number): number | null {
  const img = vp?.getCornerstoneImage();
  if (!img) return null;
  const v = img.getPixelData()[row * img.columns + col];
  if (v === undefined) return null;
  return img.preScale?.scaled ? v : v * (img.slope ?? 1) + (img.intercept ?? 0);
}

// samplesAt is every sample stored at a pixel of the image on display:
// the modality value of a grey image, R, G, B of a colour one (the loader
// converts YBR and palette colour to RGB).
function samplesAt(vp: Types.IStackViewport | undefined, col: number, row: number): number[] | null {
  const img = vp?.getCornerstoneImage();
  if (!img) return null;
  const px = img.getPixelData();
  const n = Math.round(px.length / (img.rows * img.columns));
  if (n === 1) {
    const v = probeValue(vp, col, row);
    return v === null ? null : [v];
  }
  const at = (row * img.columns + col) * n;
  return Array.from(px.slice(at, at + Math.min(n, 3)));
}

// onlyInstance narrows a series' stack to one instance's frames.
function onlyInstance(s: Stack, sop: string): Stack {
  const keep = s.instances.map((inst, i) => (tag(inst, '00080018') === sop ? i : -1)).filter((i) => i >= 0);
  return { ...s, imageIds: keep.map((i) => s.imageIds[i]), instances: keep.map((i) => s.instances[i]), positions: keep.map((i) => s.positions[i]) };
}

// rendered resolves at the element's next Cornerstone render (or after a
// second, should that render never come).
function rendered(el: HTMLElement): Promise<void> {
  return new Promise((ok) => {
    const done = () => {
      el.removeEventListener(Enums.Events.IMAGE_RENDERED, done);
      clearTimeout(t);
      ok();
    };
    const t = setTimeout(done, 1000);
    el.addEventListener(Enums.Events.IMAGE_RENDERED, done);
  });
}

function fmtDate(d: string) {
  return d.length === 8 ? `${d.slice(0, 4)}-${d.slice(4, 6)}-${d.slice(6)}` : d;
}

function Pane({ index, engine, group, spec, active, overlays, tags, onFocus, onDrawn }: {
  index: number; engine: RenderingEngine; group: string; spec: PaneSpec; active: boolean; overlays: boolean; tags: boolean; onFocus: () => void;
  onDrawn: () => void;
}) {
  // The latest callback, read when the image is drawn (not an effect dependency).
  const drawnRef = useRef(onDrawn);
  drawnRef.current = onDrawn;
  const el = useRef<HTMLDivElement>(null);
  const [stack, setStack] = useState<Stack | null>(null);
  const [info, setInfo] = useState<Info | null>(null);
  const [error, setError] = useState('');
  const id = `pane-${index}`;

  useEffect(() => {
    const e = el.current;
    if (!e) return;
    enableStack(engine, { viewportId: id, type: Enums.ViewportType.STACK, element: e, defaultOptions: { background: [0, 0, 0] } });
    toolGroup(group)?.addViewport(id, engine.id);
    // The observer's first call reports the size enableElement has just
    // used: a resize then would only draw the empty viewport once more
    // (a readback of the whole canvas in software WebGL).
    let size = `${e.clientWidth}x${e.clientHeight}`;
    const resize = new ResizeObserver(() => {
      const now = `${e.clientWidth}x${e.clientHeight}`;
      if (now === size) return;
      size = now;
      engine.resize(true, false);
    });
    resize.observe(e);
    const update = () => setInfo(paneInfo(engine.getViewport(id) as Types.IStackViewport));
    const evs = [Enums.Events.IMAGE_RENDERED, Enums.Events.STACK_NEW_IMAGE, Enums.Events.VOI_MODIFIED, Enums.Events.CAMERA_MODIFIED];
    evs.forEach((ev) => e.addEventListener(ev, update));
    return () => {
      evs.forEach((ev) => e.removeEventListener(ev, update));
      resize.disconnect();
      tools.ToolGroupManager.getToolGroup(group)?.removeViewports(engine.id, id);
      engine.disableElement(id);
    };
  }, [engine, group, id]);

  useEffect(() => {
    let alive = true;
    setError('');
    loadStack(spec.study, spec.series)
      .then((s) => (spec.sop ? onlyInstance(s, spec.sop) : s))
      .then(async (s) => {
        if (!alive) return;
        const vp = engine.getViewport(id) as Types.IStackViewport;
        stackPositions.set(s.imageIds[0], s.positions);
        // Start in the middle of the stack; a second pane starts at the
        // first pane's position.
        let start = Math.floor(s.imageIds.length / 2);
        if (index > 0) {
          const first = paneInfo(engine.getViewport('pane-0') as Types.IStackViewport);
          const j = first ? nearest(s.positions, first.position) : -1;
          if (j >= 0) start = j;
        }
        setStack(s);
        performance.mark(`lb:stack-${index}`);
        // The opening frame may be on its way already (metadata.ts openSeries).
        await frameComing(s.imageIds[start]);
        if (!alive) return;
        performance.mark(`lb:frame-${index}`);
        await vp.setStack(s.imageIds, start);
        performance.mark(`lb:setStack-${index}`);
        // Mammography mirroring (hanging.ts mgFlip).
        if (spec.flip) vp.setCamera({ flipHorizontal: true });
        const shown = rendered(vp.element);
        vp.render();
        // The rest of the stack comes in once this image is on screen: the
        // series retrieve's frames handed to the loader would otherwise
        // hold the page's thread between setStack and the first draw.
        await shown;
        performance.mark(`lb:rendered-${index}`);
        imageDrawn();
        drawnRef.current();
        if (alive) fillStack(vp, s, !!spec.sop);
      })
      .catch((e) => alive && setError(String(e)));
    return () => {
      alive = false;
    };
  }, [engine, id, index, spec.study, spec.series, spec.sop, spec.flip]);

  const inst = stack && info ? stack.instances[info.index] : null;
  return (
    <div className={`viewer-pane${active ? ' active' : ''}`} onMouseDown={onFocus} data-testid={`pane-${index}`}>
      <div ref={el} className="viewer-canvas" onContextMenu={(e) => e.preventDefault()} />
      {error && <p className="error viewer-error">{error}</p>}
      {spec.label && <span className="pane-label" data-testid="pane-label">{spec.label}{spec.flip ? ' ⇋' : ''}</span>}
      {tags && inst && <TagBrowser inst={inst} />}
      {overlays && inst && info && (
        <div className="viewer-overlay" data-testid="overlay">
          <div className="tl">
            {tag(inst, '00100010')}<br />{tag(inst, '00100020')}<br />{fmtDate(tag(inst, '00080020'))} {tag(inst, '00081030')}
          </div>
          <div className="tr">
            {tag(inst, '00080060')} Se {tag(inst, '00200011')} {tag(inst, '0008103E')}<br />
            <span data-testid="slice">Im {info.index + 1}/{info.count}</span>
          </div>
          <div className="bl">
            {Number.isFinite(info.position) && <>Pos {info.position.toFixed(1)} mm </>}
            {tag(inst, '00180050') && <>Th {Number(tag(inst, '00180050')).toFixed(1)} mm</>}
            <br />Zoom {info.zoom.toFixed(2)}
          </div>
          <div className="br" data-testid="wl">W {Math.round(info.width)} L {Math.round(info.center)}{info.invert ? ' inv' : ''}</div>
        </div>
      )}
    </div>
  );
}
