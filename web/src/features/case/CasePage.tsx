import { useEffect, useState } from 'react';
import { api, tag } from '../../api/client';
import type { DicomJSON, Facility, WorkItem } from '../../api/types';
import { navigate, useNow } from '../../router';
import { useAction } from '../station/prefs';
import { ReportPanel } from '../report/ReportPanel';
import { CriticalDialog } from '../critical/CriticalDialog';
import { ReasonDialog } from '../worklist/ReasonDialog';
import { person } from '../worklist/sort';
import { age, countdown, localTime } from '../worklist/time';
import { ErrorBoundary } from '../../ErrorBoundary';
import { LazyViewer, startCase } from '../viewer/LazyViewer';
import { knownSeries } from '../viewer/metadata';
import { afterFirstImage } from '../viewer/frames';
import { ApiError, collab } from '../../api/client';
import { useSession } from '../auth/session';
import { BreakGlass } from '../collab/BreakGlass';
import { ConsultPanel } from '../collab/ConsultPanel';
import { caseClosed, caseOpened, openViewerWindows } from '../monitors/channel';

// CasePage: the study's images on the left (the viewer slot), the report
// on the right.
export function CasePage({ uid }: { uid: string }) {
  const [item, setItem] = useState<WorkItem | null>(null);
  const [facility, setFacility] = useState<Facility | null>(null);
  // A prefetched case renders its viewer on the series list already in.
  const [series, setSeries] = useState<DicomJSON[]>(() => knownSeries(uid)?.value ?? []);
  const [critical, setCritical] = useState(false);
  const [releasing, setReleasing] = useState(false);
  const now = useNow(1000);
  const { session } = useSession();
  const asked = Number(new URLSearchParams(location.search).get('consult') ?? 0);
  const [consulting, setConsulting] = useState(asked > 0);
  const [outside, setOutside] = useState(false);
  const [granted, setGranted] = useState(0);

  useEffect(() => {
    // The worklist row (the header's patient, due time, facility) after the
    // first image (frames.ts afterFirstImage).
    void afterFirstImage().then(() => api.worklist()).then((r) => {
      const it = r.items.find((i) => i.study_uid === uid) ?? null;
      setItem(it);
      if (it) api.facilities().then((fs) => setFacility(fs.find((f) => f.id === it.facility_id) ?? null)).catch(() => {});
    }).catch(() => {});
    // The series list the case's first moments (startCase) or the prefetch
    // asked for serves at once; an older one is asked for again behind it.
    // After break-glass (granted) the list is asked for anew.
    if (!granted) startCase(uid);
    const known = granted ? null : knownSeries(uid);
    const list = known ? known.series.catch(() => api.series(uid)) : api.series(uid);
    const show = (ss: DicomJSON[]) => {
      setSeries(ss);
      if (ss.length) setOutside(false);
      else void collab.inScope(uid).then((ok) => setOutside(!ok));
    };
    list.then((ss) => {
      show(ss);
      if (known && !known.fresh) {
        void afterFirstImage().then(() => api.series(uid)).then((again) => JSON.stringify(again) !== JSON.stringify(ss) && show(again)).catch(() => {});
      }
    }).catch((e) => {
      setSeries([]);
      setOutside(e instanceof ApiError && (e.status === 404 || e.status === 403));
    });
  }, [uid, granted]);

  // The report panel mounts once the case's first image is up (or after a
  // second; frames.ts afterFirstImage): its render, its three requests and
  // the renders of their answers, and its storage listener (which opens the
  // page's local and session storage, a round trip to the browser each)
  // came in front of a cold case's first image on the page's thread
  // (bench/README.md, session 10). Its column keeps its width meanwhile, so
  // the viewer's panes do not resize when it comes.
  const [reportShown, setReportShown] = useState(false);
  useEffect(() => {
    let alive = true;
    void afterFirstImage().then(() => alive && setReportShown(true));
    return () => {
      alive = false;
    };
  }, [uid]);

  // The viewer windows on the other monitors hang this case, and clear
  // when it is left.
  useEffect(() => {
    caseOpened(uid);
    return () => caseClosed(uid);
  }, [uid]);

  useAction('critical', () => setCritical(true));
  useAction('worklist', () => navigate('/'));
  useAction('release', () => setReleasing(true));

  const c = countdown(item?.deadline, now);
  return (
    <main className="case" aria-label="Case">
      <header className="case-head">
        <button onClick={() => navigate('/')} aria-label="Back to worklist">←</button>
        {item ? (
          <>
            <strong data-testid="case-patient">{person(item.patient_name)}</strong>
            <span>{age(item.birth_date, now)} {item.patient_sex}</span>
            <span className="give" title={item.description}>{item.modality} · {item.description}</span>
            <span className="give" title={facility?.name}>{facility?.name ?? item.facility_id}</span>
            {/* The facility's clock never gives way: a reader phoning a critical result needs it. */}
            <span className="muted" title="Local time at the facility">{localTime(facility?.time_zone, now)}</span>
            {c && <span className={`mono due-${c.risk}`}>due {c.text}</span>}
            <span className="muted">{item.priors} prior{item.priors === 1 ? '' : 's'}</span>
          </>
        ) : (
          <span className="muted">{series[0] ? `${tag(series[0], '00100010')}` : 'Study'}</span>
        )}
        <span className="spacer" />
        {session?.principal.role === 'radiologist' && <button onClick={() => setConsulting((v) => !v)} aria-pressed={consulting}>Consult</button>}
        <button onClick={() => void openViewerWindows()} title="One viewer window per diagnostic monitor">Viewer windows</button>
        <button onClick={() => setCritical(true)} className="danger">Critical result</button>
        {item && <button onClick={() => setReleasing(true)}>Release</button>}
      </header>
      {outside && session?.principal.role === 'radiologist' && <BreakGlass study={uid} onGranted={() => setGranted((n) => n + 1)} />}
      {consulting && session && <ConsultPanel study={uid} me={session.principal.username} initial={asked} onClose={() => setConsulting(false)} />}
      <div className="case-body">
        <ErrorBoundary key={uid} what="viewer"><LazyViewer study={uid} series={series} /></ErrorBoundary>
        {reportShown ? <ReportPanel uid={uid} modality={item?.modality ?? (series[0] ? tag(series[0], '00080060') : '')} onCritical={() => setCritical(true)} />
          : <section className="report-panel" aria-label="Report" aria-busy="true" />}
      </div>
      {critical && <CriticalDialog study={uid} facility={item?.facility_id ?? ''} onClose={() => setCritical(false)} />}
      {releasing && (
        <ReasonDialog title="Release case" label="Why are you releasing it?" submit="Release" onCancel={() => setReleasing(false)}
          onSubmit={async (reason) => {
            await api.release(uid, reason);
            navigate('/');
          }} />
      )}
    </main>
  );
}
