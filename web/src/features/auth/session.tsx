import { createContext, useCallback, useContext, useEffect, useMemo, useState, type ReactNode } from 'react';
import { api, ApiError, onUnauthenticated, setCSRF } from '../../api/client';
import type { SessionInfo } from '../../api/types';
import { clearAll } from '../../storage';

interface SessionState {
  session: SessionInfo | null;
  loading: boolean;
  notice: string; // why the user is at the login page (idle logoff, ...)
  signedIn: (s: SessionInfo) => void;
  logout: (notice?: string) => Promise<void>;
}

// idleNotice: why the app is at the login page after the idle logoff.
export const idleNotice = 'You were signed out after a period of inactivity.';

const Ctx = createContext<SessionState | null>(null);

export function SessionProvider({ children }: { children: ReactNode }) {
  const [session, setSession] = useState<SessionInfo | null>(null);
  const [loading, setLoading] = useState(true);
  const [notice, setNotice] = useState('');

  const signedIn = useCallback((s: SessionInfo) => {
    setCSRF(s.csrf_token);
    setNotice('');
    setSession(s);
  }, []);

  const logout = useCallback(async (why = '') => {
    try {
      await api.logout();
    } catch {
      // already ended on the server: clear locally anyway
    }
    await clearAll();
    setCSRF('');
    setSession(null);
    setNotice(why);
    history.replaceState(null, '', '/login');
  }, []);

  useEffect(() => {
    api
      .session()
      .then(signedIn)
      .catch((e) => {
        // No session: whatever a browser that closed without logging out
        // (a crash, a power cut) left behind, drafts included, goes now.
        // A server that cannot be reached leaves the local copies alone.
        if (e instanceof ApiError && e.status === 401) void clearAll();
        setSession(null);
      })
      .finally(() => setLoading(false));
  }, [signedIn]);

  useEffect(
    () =>
      onUnauthenticated((idle) => {
        void clearAll();
        setSession(null);
        setNotice(idle ? idleNotice : 'Your session has ended. Please sign in again.');
      }),
    [],
  );

  const v = useMemo(() => ({ session, loading, notice, signedIn, logout }), [session, loading, notice, signedIn, logout]);
  return <Ctx.Provider value={v}>{children}</Ctx.Provider>;
}

export function useSession(): SessionState {
  const s = useContext(Ctx);
  if (!s) throw new Error('useSession outside SessionProvider');
  return s;
}
