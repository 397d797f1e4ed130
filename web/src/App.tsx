import { useEffect } from 'react';
import { AuditPage } from './features/audit/AuditPage';
import { IdleWarning } from './features/auth/IdleWarning';
import { LoginPage } from './features/auth/LoginPage';
import { ReauthDialog } from './features/auth/ReauthDialog';
import { useSession } from './features/auth/session';
import { BoardPage } from './features/board/BoardPage';
import { CasePage } from './features/case/CasePage';
import { CredentialsPage } from './features/credentials/CredentialsPage';
import { CriticalBoardPage } from './features/critical/CriticalBoardPage';
import { DashboardPage } from './features/dashboard/DashboardPage';
import { MyNumbersPage } from './features/dashboard/MyNumbersPage';
import { GroupPage } from './features/group/GroupPage';
import { IRConsultsPage } from './features/irconsult/IRConsultsPage';
import { MentoringPage } from './features/mentoring/MentoringPage';
import { PeerReviewPage } from './features/peerreview/PeerReviewPage';
import { TeachingPage } from './features/teaching/TeachingPage';
import { BoardPage as TumorBoardPage } from './features/tumorboard/BoardPage';
import { TumorBoardsPage } from './features/tumorboard/TumorBoardsPage';
import { BreakReminder } from './features/station/BreakReminder';
import { RosterPage } from './features/roster/RosterPage';
import { PrefsProvider } from './features/station/prefs';
import { StationPage } from './features/station/StationPage';
import { ViewerWindow } from './features/monitors/ViewerWindow';
import { WorklistPage } from './features/worklist/WorklistPage';
import { RoomPage } from './features/collab/RoomPage';
import { VisitPage } from './features/collab/VisitPage';
import { ErrorBoundary } from './ErrorBoundary';
import { NavMenu } from './NavMenu';
import { navigate, usePath } from './router';
import { probeGraphicsWhenIdle } from './features/viewer/gpuprobe';

export function App() {
  const { session, loading, logout } = useSession();
  const path = usePath();
  const role = session?.principal.role;
  const staff = role === 'admin' || role === 'coordinator';

  const patient = path === '/visit'; // a patient's clinic visit: no account
  useEffect(() => {
    if (patient) return;
    if (!loading && !session && path !== '/login') navigate('/login', true);
    if (session && path === '/login') navigate(staff ? '/board' : '/', true);
  }, [loading, session, path, staff, patient]);

  // Signed in, away from a case: Cornerstone's graphics probe runs at an
  // idle moment, not in front of the next case's first image (gpuprobe.ts).
  useEffect(() => {
    if (session && !/^\/(case\/|viewer$)/.test(path)) probeGraphicsWhenIdle();
  }, [session, path]);

  if (patient) return <VisitPage />;
  if (loading) return <p className="muted center">Loading…</p>;
  if (!session) return <LoginPage />;

  let page;
  const m = /^\/case\/(.+)$/.exec(path);
  if (m) page = <CasePage uid={decodeURIComponent(m[1])} />;
  else if (path === '/board' || path === '/coverage' || (staff && path === '/')) page = <BoardPage />;
  else if (path === '/group' && staff) page = <GroupPage admin={role === 'admin'} />;
  else if (path === '/station') page = <StationPage />;
  else if (path === '/peer-review') page = <PeerReviewPage staff={staff} />;
  else if (path === '/tumor-boards') page = <TumorBoardsPage canCreate={staff || role === 'radiologist'} />;
  else if (/^\/tumor-boards\/\d+$/.test(path)) page = <TumorBoardPage id={Number(path.split('/')[2])} />;
  else if (path === '/ir-consults') page = <IRConsultsPage me={session.principal.username} />;
  else if (path === '/teaching' && (staff || role === 'radiologist')) page = <TeachingPage canShare={role === 'radiologist'} />;
  else if (path === '/mentoring' && (staff || role === 'radiologist')) page = <MentoringPage me={session.principal.username} staff={staff} />;
  else if (path === '/readers' && staff) page = <RosterPage />;
  else if (path === '/credentials' && staff) page = <CredentialsPage />;
  else if (path === '/critical' && staff) page = <CriticalBoardPage />;
  else if (path === '/dashboard' && staff) page = <DashboardPage />;
  else if (path === '/me' && role === 'radiologist') page = <MyNumbersPage />;
  else if (path === '/audit' && role === 'admin') page = <AuditPage />;
  else if (path === '/room') page = <RoomPage me={session.principal.username} reader={role === 'radiologist'} />;
  else if (path === '/viewer') page = <ViewerWindow monitor={Number(new URLSearchParams(location.search).get('monitor')) || 1} />;
  else page = <WorklistPage />;

  const link = (to: string, label: string) => (
    <a href={to} aria-current={path === to ? 'page' : undefined} onClick={(e) => { e.preventDefault(); navigate(to); }}>
      {label}
    </a>
  );
  const reader = role === 'radiologist';
  // The top bar keeps the places people work in (worklist, board, reading
  // room, station) one click away and groups the rest under menus.
  const menu = (label: string, items: [boolean, string, string][]) => {
    const shown = items.filter(([ok]) => ok);
    if (shown.length === 0) return null;
    return (
      <NavMenu label={label} active={shown.some(([, to]) => to === path)}>
        {shown.map(([, to, name]) => <span key={to}>{link(to, name)}</span>)}
      </NavMenu>
    );
  };
  return (
    <PrefsProvider>
      <a className="skip" href="#content">Skip to content</a>
      <nav className="topbar" aria-label="Main">
        <span className="brand">Lightbox</span>
        {reader && link('/', 'Worklist')}
        {link('/board', 'Board')}
        {link('/room', 'Reading room')}
        {reader && link('/station', 'Station')}
        {menu('Group', [[staff, '/group', 'Group'], [staff, '/readers', 'Readers & shifts'], [staff, '/credentials', 'Credentials']])}
        {menu('Quality', [
          [staff, '/dashboard', 'Dashboard'], [staff, '/critical', 'Critical'], [reader, '/me', 'My numbers'],
          [staff || reader, '/peer-review', 'Peer review'], [staff || reader, '/teaching', 'Teaching'], [staff || reader, '/mentoring', 'Mentoring'],
          [true, '/tumor-boards', 'Tumor boards'], [staff || reader || role === 'clinician', '/ir-consults', 'IR consults'],
        ])}
        {menu('Admin', [[role === 'admin', '/audit', 'Audit']])}
        <span className="spacer" />
        {reader && <BreakReminder />}
        <span className="muted" data-testid="whoami">{session.principal.username} · {role}</span>
        <button onClick={() => void logout('You have signed out.')}>Sign out</button>
      </nav>
      <div id="content"><ErrorBoundary key={path} what="screen">{page}</ErrorBoundary></div>
      <IdleWarning />
      <ReauthDialog />
    </PrefsProvider>
  );
}
