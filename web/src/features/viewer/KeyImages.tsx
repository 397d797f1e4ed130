// The study's key images (who marked them, when) and the toggle for the
// image on display; measurements drawn on that image are saved with it.
import { forwardRef, useCallback, useEffect, useImperativeHandle, useState } from 'react';
import type { Types } from '@cornerstonejs/core';
import { keyImagesAPI, frameRef, type KeyImage } from './keyimages';
import { lengthAnnotations } from './measure';
import { afterFirstImage } from './frames';

export interface KeyImagesHandle {
  toggle: () => void;
}

export const KeyImages = forwardRef<KeyImagesHandle, { study: string; viewport: () => Types.IStackViewport | undefined }>(
  function KeyImages({ study, viewport }, ref) {
    const [list, setList] = useState<KeyImage[]>([]);
    const [error, setError] = useState('');
    const reload = useCallback(() => {
      keyImagesAPI.list(study).then(setList).catch((e) => setError(String(e.message ?? e)));
    }, [study]);
    // Listed after the case's first image (frames.ts afterFirstImage).
    useEffect(() => void afterFirstImage().then(reload), [reload]);

    const toggle = useCallback(async () => {
      const vp = viewport();
      const id = vp?.getCurrentImageId();
      const ref = id ? frameRef(id) : null;
      if (!id || !ref) return;
      setError('');
      try {
        const mine = list.find((k) => k.sop_uid === ref.sop && k.frame === ref.frame);
        if (mine) await keyImagesAPI.remove(study, mine.id);
        else await keyImagesAPI.add(study, { series_uid: ref.series, sop_uid: ref.sop, frame: ref.frame, note: '', annotations: lengthAnnotations(id).map((a) => ({ kind: a.kind, points: a.points, value: a.value, unit: a.unit })) });
      } catch (e) {
        setError(String((e as Error).message ?? e));
      }
      reload();
    }, [list, reload, study, viewport]);
    useImperativeHandle(ref, () => ({ toggle: () => void toggle() }), [toggle]);

    return (
      <div className="viewer-keys">
        <h3>Key images</h3>
        {error && <p className="error small">{error}</p>}
        {list.length === 0 && <p className="muted small">None yet (K marks the image on display).</p>}
        <ul data-testid="key-images">
          {list.map((k) => (
            <li key={k.id} className="small" data-sop={k.sop_uid}>
              Im {k.frame > 1 ? `${k.sop_uid.slice(-6)}:${k.frame}` : `…${k.sop_uid.slice(-6)}`} · {k.created_by}{' '}
              <span className="muted">{k.created_at.slice(0, 16).replace('T', ' ')}</span>
              {k.annotations.map((a, i) => <div key={i} className="muted">{a.kind} {a.value.toFixed(1)} {a.unit}</div>)}
            </li>
          ))}
        </ul>
      </div>
    );
  },
);
