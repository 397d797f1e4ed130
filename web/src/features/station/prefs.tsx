import { createContext, useCallback, useContext, useEffect, useMemo, useRef, useState, type ReactNode } from 'react';
import { api } from '../../api/client';
import type { Preferences } from '../../api/types';
import { actionFor, resolve, type Action } from './keymap';
import { setCachePolicy } from '../viewer/cachepolicy';

interface PrefsState {
  prefs: Preferences;
  loaded: boolean; // the saved preferences have arrived (defaults until then)
  keys: Record<Action, string>;
  save: (p: Preferences) => Promise<void>;
}

const defaults: Preferences = { keys: {}, break_minutes: 20 };
const Ctx = createContext<PrefsState | null>(null);
const handlers = new Map<Action, () => void>();

// useAction binds a reading action to a handler while the component is
// mounted; the key press that triggers it comes from the reader's map.
export function useAction(a: Action, f: () => void) {
  const ref = useRef(f);
  useEffect(() => {
    ref.current = f;
  });
  useEffect(() => {
    const h = () => ref.current();
    handlers.set(a, h);
    return () => {
      if (handlers.get(a) === h) handlers.delete(a);
    };
  }, [a]);
}

export function PrefsProvider({ children }: { children: ReactNode }) {
  const [prefs, setPrefs] = useState<Preferences>(defaults);
  const [loaded, setLoaded] = useState(false);
  // Until they arrive the reader's keys and prefetch wait on them, so a
  // failed load (a server restarting, a network blip) is tried again rather
  // than leaving defaults in force and the prefetch off for the session.
  useEffect(() => {
    let alive = true;
    let timer: ReturnType<typeof setTimeout> | undefined;
    const load = (wait: number) => {
      api.preferences().then((p) => {
        if (!alive) return;
        setPrefs({ ...defaults, ...p, keys: p.keys ?? {} });
        setLoaded(true);
      }).catch((e) => {
        if (!alive) return;
        console.error('lightbox: preferences could not load, trying again:', e instanceof Error ? e.message : e);
        timer = setTimeout(() => load(Math.min(wait * 2, 30000)), wait);
      });
    };
    load(1000);
    return () => {
      alive = false;
      clearTimeout(timer);
    };
  }, []);
  // The viewer's image cache follows the reader's setting.
  useEffect(() => setCachePolicy(prefs), [prefs]);
  const keys = useMemo(() => resolve(prefs.keys), [prefs]);
  useEffect(() => {
    const onKey = (e: KeyboardEvent) => {
      const a = actionFor(keys, e);
      const h = a && handlers.get(a);
      if (h) {
        e.preventDefault();
        h();
      }
    };
    window.addEventListener('keydown', onKey);
    return () => window.removeEventListener('keydown', onKey);
  }, [keys]);
  // A save before the saved preferences arrived would write the defaults
  // over them (the key map, the hangings): refused, and the editors stay
  // disabled until then.
  const loadedRef = useRef(false);
  useEffect(() => {
    loadedRef.current = loaded;
  }, [loaded]);
  const save = useCallback(async (p: Preferences) => {
    if (!loadedRef.current) throw new Error('Your saved preferences have not loaded yet.');
    setPrefs(await api.savePreferences(p));
  }, []);
  const v = useMemo(() => ({ prefs, loaded, keys, save }), [prefs, loaded, keys, save]);
  return <Ctx.Provider value={v}>{children}</Ctx.Provider>;
}

export function usePrefs(): PrefsState {
  const s = useContext(Ctx);
  if (!s) throw new Error('usePrefs outside PrefsProvider');
  return s;
}
