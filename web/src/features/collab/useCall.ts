import { useCallback, useEffect, useRef, useState } from 'react';
import type { LiveEvent } from '../../api/types';
import { Call } from './call';

type Send = (ev: Omit<LiveEvent, 'from'>) => Promise<void>;

// useCall keeps one call at a time: start it, or take an incoming offer
// (at once with autoAnswer, else when answer() is called); the signalling
// events of the topic go to handle().
export function useCall(send: Send, ice: RTCIceServer[], autoAnswer = false) {
  const [state, setState] = useState('idle');
  const [remote, setRemote] = useState<MediaStream | null>(null);
  const [local, setLocal] = useState<MediaStream | null>(null);
  const [incoming, setIncoming] = useState<LiveEvent | null>(null);
  const call = useRef<Call | null>(null);
  const early = useRef<LiveEvent[]>([]);

  const make = useCallback(
    (peer: string) => {
      if (!call.current) call.current = new Call(send, peer, ice, setRemote, setState);
      return call.current;
    },
    [send, ice],
  );

  const take = useCallback(
    async (offer: LiveEvent) => {
      const c = make(offer.from);
      setState('connecting');
      await c.handle(offer);
      setLocal(c.local);
      for (const ev of early.current.splice(0)) await c.handle(ev);
    },
    [make],
  );

  const start = useCallback(
    async (peer: string) => {
      const c = make(peer);
      setState('calling');
      await c.start();
      setLocal(c.local);
    },
    [make],
  );

  const handle = useCallback(
    (ev: LiveEvent) => {
      if (ev.kind === 'hangup') {
        call.current?.hangup(false);
        call.current = null;
        setIncoming(null);
        setRemote(null);
        setState('ended');
        return;
      }
      if (ev.kind === 'offer' && !call.current) {
        if (autoAnswer) void take(ev);
        else setIncoming(ev);
        return;
      }
      if (!call.current) {
        early.current.push(ev);
        return;
      }
      void call.current.handle(ev);
    },
    [autoAnswer, take],
  );

  const answer = useCallback(() => {
    if (incoming) void take(incoming);
    setIncoming(null);
  }, [incoming, take]);

  const hangup = useCallback(() => {
    call.current?.hangup();
    call.current = null;
    setRemote(null);
    setState('ended');
  }, []);

  useEffect(() => () => call.current?.hangup(), []);
  return { state, remote, local, incoming, start, handle, answer, hangup };
}
