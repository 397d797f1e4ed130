import { useEffect, useRef } from 'react';
import type { LiveEvent } from '../../api/types';

const kinds = ['message', 'opinion', 'status', 'view', 'pointer', 'control', 'frame', 'offer', 'answer', 'ice', 'hangup', 'hello', 'join', 'leave'];

// useLive listens to one of the server's live topics (Server-Sent Events:
// a consult, a visit, the reading room) while url is set; EventSource
// reconnects by itself. onOpen runs on every (re)connection.
export function useLive(url: string | null, onEvent: (ev: LiveEvent) => void, onOpen?: () => void) {
  const handler = useRef(onEvent);
  const opened = useRef(onOpen);
  useEffect(() => {
    handler.current = onEvent;
    opened.current = onOpen;
  });
  useEffect(() => {
    if (!url) return;
    const es = new EventSource(url);
    const f = (e: MessageEvent) => {
      try {
        handler.current(JSON.parse(e.data) as LiveEvent);
      } catch {
        // a malformed event is dropped
      }
    };
    kinds.forEach((k) => es.addEventListener(k, f as EventListener));
    es.onopen = () => opened.current?.();
    return () => es.close();
  }, [url]);
}
