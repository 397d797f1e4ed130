import { useEffect } from 'react';
import { IdleWarning } from './features/auth/IdleWarning';
import { LoginPage } from './features/auth/LoginPage';
import { ReauthDialog } from './features/auth/ReauthDialog';
import { useSession } from './features/auth/session';
import { BoardPage } from './features/board/BoardPage';
import { CasePage } from './features/case/CasePage';
import { GroupPage } from './features/group/GroupPage';
import { BreakReminder } from './features/station/BreakReminder';
import { PrefsProvider } from './features/station/prefs';
import { StationPage } from './features/station/StationPage';
import { ViewerWindow } from './features/monitors/ViewerWindow';
import { WorklistPage } from './features/worklist/WorklistPage';
import { navigate, usePath } from './router';

export function App() {
  const { session, loading, logout } = useSession();
  const path = usePath();
  const role = session?.principal.role;
  const staff = role === 'admin' || role === 'coordinator';

  useEffect(() => {
    if (!loading && !session && path !== '/login') navigate('/login', true);
    if (session && path === '/login') navigate(staff ? '/board' : '/', true);
  }, [loading, session, path, staff]);

  if (loading) return <p className="muted center">Loading…</p>;
  if (!session) return <LoginPage />;

  let page;
  const m = /^\/case\/(.+)$/.exec(path);
  if (m) page = <CasePage uid={decodeURIComponent(m[1])} />;
  else if (path === '/board' || (staff && path === '/')) page = <BoardPage />;
  else if (path === '/group' && staff) page = <GroupPage admin={role === 'admin'} />;
  else if (path === '/station') page = <StationPage />;
  else if (path === '/viewer') page = <ViewerWindow monitor={Number(new URLSearchParams(location.search).get('monitor')) || 1} />;
  else page = <WorklistPage />;

  const link = (to: string, label: string) => (
    <a href={to} aria-current={path === to ? 'page' : undefined} onClick={(e) => { e.preventDefault(); navigate(to); }}>
      {label}
    </a>
  );
  return (
    <PrefsProvider>
      <a className="skip" href="#content">Skip to content</a>
      <nav className="topbar" aria-label="Main">
        <span className="brand">Lightbox</span>
        {role === 'radiologist' && link('/', 'Worklist')}
        {link('/board', 'Board')}
        {staff && link('/group', 'Group')}
        {role === 'radiologist' && link('/station', 'Station')}
        <span className="spacer" />
        <span className="muted" data-testid="whoami">{session.principal.username} · {role}</span>
        <button onClick={() => void logout('You have signed out.')}>Sign out</button>
      </nav>
      <div id="content">{page}</div>
      {role === 'radiologist' && <BreakReminder />}
      <IdleWarning />
      <ReauthDialog />
    </PrefsProvider>
  );
}
