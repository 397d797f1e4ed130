import { createContext, useCallback, useContext, useEffect, useMemo, useRef, useState, type ReactNode } from 'react';
import { api } from '../../api/client';
import type { Preferences } from '../../api/types';
import { actionFor, resolve, type Action } from './keymap';

interface PrefsState {
  prefs: Preferences;
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
  useEffect(() => {
    api.preferences().then((p) => setPrefs({ ...defaults, ...p, keys: p.keys ?? {} })).catch(() => {});
  }, []);
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
  const save = useCallback(async (p: Preferences) => setPrefs(await api.savePreferences(p)), []);
  const v = useMemo(() => ({ prefs, keys, save }), [prefs, keys, save]);
  return <Ctx.Provider value={v}>{children}</Ctx.Provider>;
}

export function usePrefs(): PrefsState {
  const s = useContext(Ctx);
  if (!s) throw new Error('usePrefs outside PrefsProvider');
  return s;
}
