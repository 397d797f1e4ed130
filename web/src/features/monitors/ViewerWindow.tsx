// A viewer window on a diagnostic monitor (/viewer?monitor=N): it shows
// the case the case window announces (channel.ts) and clears when the case
// is left or signed. Monitor 1 hangs the current study; monitor 2 its most
// relevant prior when there is one, so current and prior fill a monitor
// each.
import { useEffect, useRef, useState } from 'react';
import { api } from '../../api/client';
import type { DicomJSON } from '../../api/types';
import { LazyViewer } from '../viewer/LazyViewer';
import { stationChannel, type StationMessage } from './channel';
import './monitors.css';

export function ViewerWindow({ monitor }: { monitor: number }) {
  const [study, setStudy] = useState('');
  const [shown, setShown] = useState<{ study: string; series: DicomJSON[] } | null>(null);
  const studyRef = useRef('');
  useEffect(() => {
    studyRef.current = study;
  }, [study]);

  useEffect(() => {
    const ch = stationChannel();
    if (!ch) return;
    ch.onmessage = (e: MessageEvent<StationMessage>) => {
      const m = e.data;
      if (m?.type === 'hang') setStudy(m.study);
      if (m?.type === 'clear' && (!m.study || m.study === studyRef.current)) setStudy('');
    };
    ch.postMessage({ type: 'which' } satisfies StationMessage);
    return () => ch.close();
  }, []);

  useEffect(() => {
    let alive = true;
    if (!study) {
      setShown(null);
      return;
    }
    (async () => {
      let uid = study;
      if (monitor > 1) {
        const { priorsOf } = await import('../viewer/dicomweb');
        const ranked = await priorsOf(study).catch(() => [] as DicomJSON[]);
        const p = ranked[monitor - 2];
        if (p) uid = String(p['0020000D']?.Value?.[0] ?? study);
      }
      const series = await api.series(uid).catch(() => [] as DicomJSON[]);
      if (alive) setShown({ study: uid, series });
    })();
    return () => {
      alive = false;
    };
  }, [study, monitor]);

  useEffect(() => {
    document.title = `Lightbox viewer ${monitor}`;
  }, [monitor]);

  return (
    <main className="viewer-window" aria-label={`Viewer window ${monitor}`} data-testid="viewer-window" data-study={shown?.study ?? ''}>
      {shown ? <LazyViewer key={shown.study} study={shown.study} series={shown.series} /> : <p className="muted center">No case open. Open a case in the worklist window.</p>}
    </main>
  );
}
