import { useCallback, useEffect, useRef, useState } from 'react';
import type { LiveEvent } from '../../api/types';
import { onViewer, sameView, viewer, type ViewState } from '../viewer/bridge';

type Send = (ev: Omit<LiveEvent, 'from'>) => Promise<void>;

// useShared is one side of a shared viewing session: the presenter's first
// pane (series, slice, W/L, zoom/pan, measurements) is sampled ten times a
// second and sent when it changed (and every two seconds for late
// joiners), the pointer as world coordinates; the others apply what they
// receive. Either side can take control.
export function useShared(me: string, send: Send) {
  const [presenter, setPresenter] = useState('');
  const [follow, setFollow] = useState(true);
  const [pointer, setPointer] = useState<[number, number, number] | null>(null);
  const [view, setView] = useState<ViewState | null>(null);
  const last = useRef<ViewState | null>(null);
  const presenting = presenter === me;

  useEffect(() => {
    if (!presenting) return;
    let lastSent = 0;
    const t = setInterval(() => {
      const s = viewer()?.state() ?? null;
      if (!s) return;
      const now = Date.now();
      if (!sameView(s, last.current) || now - lastSent > 2000) {
        last.current = s;
        lastSent = now;
        void send({ kind: 'view', data: s }).catch(() => {});
      }
    }, 100);
    return () => clearInterval(t);
  }, [presenting, send]);

  // The presenter's pointer over the first pane, at most every 80 ms.
  useEffect(() => {
    if (!presenting) return;
    let el: HTMLElement | null = null;
    let at = 0;
    const move = (e: MouseEvent) => {
      const now = Date.now();
      if (!el || now - at < 80) return;
      at = now;
      const r = el.getBoundingClientRect();
      const w = viewer()?.canvasToWorld(e.clientX - r.left, e.clientY - r.top);
      if (w) void send({ kind: 'pointer', data: w }).catch(() => {});
    };
    const off = onViewer((h) => {
      el?.removeEventListener('mousemove', move);
      el = h?.element() ?? null;
      el?.addEventListener('mousemove', move);
    });
    return () => {
      off();
      el?.removeEventListener('mousemove', move);
    };
  }, [presenting, send]);

  const handle = useCallback(
    (ev: LiveEvent) => {
      if (ev.kind === 'control') {
        setPresenter(String((ev.data as { presenter?: string })?.presenter ?? ''));
        setPointer(null);
      } else if (ev.kind === 'view') {
        setPresenter((p) => p || ev.from);
        const s = ev.data as ViewState;
        setView(s);
        if (follow && ev.from !== me) viewer()?.apply(s);
      } else if (ev.kind === 'pointer') {
        setPointer(ev.data as [number, number, number]);
      }
    },
    [follow, me],
  );

  const present = useCallback(() => {
    setPresenter(me);
    last.current = null;
    void send({ kind: 'control', data: { presenter: me } });
  }, [me, send]);

  const stop = useCallback(() => {
    setPresenter('');
    void send({ kind: 'control', data: { presenter: '' } });
  }, [send]);

  return { presenter, presenting, follow, setFollow, pointer, view, handle, present, stop };
}
