// Multiplanar reformation of a CT or MR series: the series as a volume
// (Cornerstone3D's streaming image volume, filled slice by slice from the
// frames the stack viewer already fetches) in three orthographic volume
// viewports, axial, coronal and sagittal, linked by crosshairs; a slab
// thickness turns each view into a thick-slab maximum intensity projection.
import { useEffect, useMemo, useRef, useState } from 'react';
import {
  cache, Enums, eventTarget, RenderingEngine, setVolumesForViewports, volumeLoader, type Types,
} from '@cornerstonejs/core';
import * as tools from '@cornerstonejs/tools';
import { voiRange } from './presets';

export const mprOrientations = [
  { id: 'mpr-axial', label: 'Axial', orientation: Enums.OrientationAxis.AXIAL, color: 'rgb(200, 0, 0)' },
  { id: 'mpr-coronal', label: 'Coronal', orientation: Enums.OrientationAxis.CORONAL, color: 'rgb(0, 200, 0)' },
  { id: 'mpr-sagittal', label: 'Sagittal', orientation: Enums.OrientationAxis.SAGITTAL, color: 'rgb(200, 200, 0)' },
] as const;

// Slab thicknesses offered (mm); 0 is a plain thin reformat.
export const slabChoices = [0, 5, 10, 20, 40];

let seq = 0;

export function Mpr({ imageIds, window: win, onClose }: {
  imageIds: string[];
  window?: { center: number; width: number };
  onClose: () => void;
}) {
  const ids = useMemo(() => {
    seq++;
    return { engine: `lb-mpr-${seq}`, group: `lb-mpr-tools-${seq}`, volume: `cornerstoneStreamingImageVolume:lb-mpr-${seq}` };
  }, []);
  const els = useRef<(HTMLDivElement | null)[]>([]);
  const engineRef = useRef<RenderingEngine | null>(null);
  const [slab, setSlab] = useState(0);
  const [loaded, setLoaded] = useState(0);
  const [error, setError] = useState('');

  useEffect(() => {
    let alive = true;
    const eng = new RenderingEngine(ids.engine);
    engineRef.current = eng;
    const group = tools.ToolGroupManager.createToolGroup(ids.group);
    (async () => {
      eng.setViewports(mprOrientations.map((o, i) => ({
        viewportId: o.id,
        type: Enums.ViewportType.ORTHOGRAPHIC,
        element: els.current[i]!,
        defaultOptions: { orientation: o.orientation, background: [0, 0, 0] as Types.Point3 },
      })));
      const volume = (await volumeLoader.createAndCacheVolume(ids.volume, { imageIds })) as Types.IStreamingImageVolume;
      if (!alive) return;
      volume.load();
      await setVolumesForViewports(eng, [{
        volumeId: ids.volume,
        callback: ({ volumeActor }) => {
          if (win) volumeActor.getProperty().getRGBTransferFunction(0).setMappingRange(...toRange(win));
        },
      }], mprOrientations.map((o) => o.id));
      if (!alive || !group) return;
      mprOrientations.forEach((o) => group.addViewport(o.id, ids.engine));
      group.addTool(tools.CrosshairsTool.toolName, {
        getReferenceLineColor: (vp: string) => mprOrientations.find((o) => o.id === vp)?.color ?? 'white',
        getReferenceLineControllable: () => true,
        getReferenceLineDraggableRotatable: () => true,
        getReferenceLineSlabThicknessControlsOn: () => true,
      });
      group.addTool(tools.StackScrollTool.toolName);
      group.addTool(tools.WindowLevelTool.toolName);
      group.addTool(tools.ZoomTool.toolName);
      group.addTool(tools.PanTool.toolName);
      group.setToolActive(tools.CrosshairsTool.toolName, { bindings: [{ mouseButton: tools.Enums.MouseBindings.Primary }] });
      group.setToolActive(tools.StackScrollTool.toolName, { bindings: [{ mouseButton: tools.Enums.MouseBindings.Wheel }] });
      group.setToolActive(tools.ZoomTool.toolName, { bindings: [{ mouseButton: tools.Enums.MouseBindings.Secondary }] });
      group.setToolActive(tools.PanTool.toolName, { bindings: [{ mouseButton: tools.Enums.MouseBindings.Auxiliary }] });
      group.setToolActive(tools.WindowLevelTool.toolName, {
        bindings: [{ mouseButton: tools.Enums.MouseBindings.Primary, modifierKey: tools.Enums.KeyboardBindings.Shift }],
      });
      eng.renderViewports(mprOrientations.map((o) => o.id));
    })().catch((e) => alive && setError(String(e)));
    // Progress: frames placed into the volume.
    const progress = (e: Event) => {
      const d = (e as CustomEvent<{ volumeId: string; framesProcessed: number }>).detail;
      if (alive && d.volumeId === ids.volume) setLoaded(d.framesProcessed);
    };
    const done = (e: Event) => {
      const d = (e as CustomEvent<{ volumeId: string }>).detail;
      if (alive && d.volumeId === ids.volume) setLoaded(imageIds.length);
    };
    eventTarget.addEventListener(Enums.Events.IMAGE_VOLUME_MODIFIED, progress);
    eventTarget.addEventListener(Enums.Events.IMAGE_VOLUME_LOADING_COMPLETED, done);
    const resize = new ResizeObserver(() => eng.resize(true, true));
    els.current.forEach((e) => e && resize.observe(e));
    return () => {
      alive = false;
      eventTarget.removeEventListener(Enums.Events.IMAGE_VOLUME_MODIFIED, progress);
      eventTarget.removeEventListener(Enums.Events.IMAGE_VOLUME_LOADING_COMPLETED, done);
      resize.disconnect();
      tools.ToolGroupManager.destroyToolGroup(ids.group);
      eng.destroy();
      engineRef.current = null;
      cache.removeVolumeLoadObject(ids.volume);
    };
  }, [ids, imageIds, win]);

  // Thick slab: maximum intensity over the slab in every view.
  useEffect(() => {
    const eng = engineRef.current;
    if (!eng) return;
    mprOrientations.forEach((o) => {
      const vp = eng.getViewport(o.id) as Types.IVolumeViewport | undefined;
      if (!vp || !vp.getActors().length) return;
      vp.setBlendMode(slab > 0 ? Enums.BlendModes.MAXIMUM_INTENSITY_BLEND : Enums.BlendModes.COMPOSITE);
      vp.setSlabThickness(Math.max(slab, 0.1));
      vp.render();
    });
  }, [slab, loaded]);

  // Test and automation hook: each view's plane, slab and pixels loaded.
  useEffect(() => {
    const w = window as unknown as Record<string, unknown>;
    w.__lightboxMpr = {
      views: () => mprOrientations.map((o) => {
        const vp = engineRef.current?.getViewport(o.id) as Types.IVolumeViewport | undefined;
        const cam = vp?.getCamera();
        return {
          id: o.id, label: o.label, normal: cam?.viewPlaneNormal ? [...cam.viewPlaneNormal] : null,
          focal: cam?.focalPoint ? [...cam.focalPoint] : null, slab: vp?.getSlabThickness?.() ?? 0,
          blend: vp?.getBlendMode?.() ?? -1, actors: vp?.getActors().length ?? 0,
        };
      }),
      loaded: () => loaded,
      total: imageIds.length,
    };
    return () => {
      delete w.__lightboxMpr;
    };
  }, [loaded, imageIds]);

  return (
    <div className="viewer-mpr" data-testid="mpr">
      <div className="viewer-tools" role="toolbar" aria-label="MPR tools">
        <button onClick={onClose}>Close MPR</button>
        <label>
          MIP slab{' '}
          <select aria-label="Slab thickness" value={slab} onChange={(e) => setSlab(Number(e.target.value))}>
            {slabChoices.map((t) => <option key={t} value={t}>{t ? `${t} mm` : 'off'}</option>)}
          </select>
        </label>
        <span className="muted small" data-testid="mpr-loaded">{loaded}/{imageIds.length} slices</span>
        <span className="muted small">drag: crosshairs · shift-drag: W/L · wheel: scroll</span>
      </div>
      {error && <p className="error">MPR could not start: {error}</p>}
      <div className="viewer-grid grid-1x3">
        {mprOrientations.map((o, i) => (
          <div key={o.id} className="viewer-pane" data-testid={o.id}>
            <div ref={(e) => { els.current[i] = e; }} className="viewer-canvas" onContextMenu={(e) => e.preventDefault()} />
            <div className="viewer-overlay"><div className="tl">{o.label}{slab ? ` · MIP ${slab} mm` : ''}</div></div>
          </div>
        ))}
      </div>
    </div>
  );
}

function toRange(w: { center: number; width: number }): [number, number] {
  const r = voiRange(w.center, w.width);
  return [r.lower, r.upper];
}
