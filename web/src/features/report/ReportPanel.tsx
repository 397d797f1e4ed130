import { useCallback, useEffect, useMemo, useRef, useState, type KeyboardEvent } from 'react';
import { api, ApiError } from '../../api/client';
import type { Content, Macro, ReportView, Template } from '../../api/types';
import { load, remove, save } from '../../storage';
import { tally } from '../station/BreakReminder';
import { navigate } from '../../router';
import { caseClosed } from '../monitors/channel';
import { comboOf } from '../station/keymap';
import { usePrefs, useAction } from '../station/prefs';
import { expandAt } from './macros';
import { preview } from './preview';
import { ReasonDialog } from '../worklist/ReasonDialog';
import { IRCandidate } from '../irconsult/IRCandidate';

const sections: { key: keyof Content; label: string; rows: number }[] = [
  { key: 'clinical_history', label: 'Clinical history', rows: 2 },
  { key: 'technique', label: 'Technique', rows: 2 },
  { key: 'comparison', label: 'Comparison', rows: 1 },
  { key: 'findings', label: 'Findings', rows: 6 },
  { key: 'impression', label: 'Impression', rows: 3 },
];

interface LocalDraft {
  content: Content;
  at: number;
}

export function ReportPanel({ uid, modality, onCritical }: { uid: string; modality: string; onCritical: () => void }) {
  const { keys } = usePrefs();
  const [templates, setTemplates] = useState<Template[]>([]);
  const [allTemplates, setAllTemplates] = useState(false);
  const [macros, setMacros] = useState<Record<string, string>>({});
  const [view, setView] = useState<ReportView | null>(null);
  const [content, setContent] = useState<Content>({});
  const [saved, setSaved] = useState('');
  const [error, setError] = useState('');
  const [showPreview, setShowPreview] = useState(false);
  const [addendum, setAddendum] = useState('');
  const [correcting, setCorrecting] = useState(false);
  const [askReason, setAskReason] = useState(false);
  const dirty = useRef(false);
  const timer = useRef<ReturnType<typeof setTimeout> | undefined>(undefined);
  const form = useRef<HTMLFormElement>(null);
  const draftKey = `draft.${uid}`;

  const reload = useCallback(async () => {
    try {
      const v = await api.report(uid);
      setView(v);
      return v;
    } catch (e) {
      if (e instanceof ApiError && e.status === 404) {
        setView(null);
        return null;
      }
      throw e;
    }
  }, [uid]);

  useEffect(() => {
    api.allTemplates().then(setTemplates).catch(() => {});
    api.macros().then((ms: Macro[]) => setMacros(Object.fromEntries(ms.map((m) => [m.name.toLowerCase(), m.body])))).catch(() => {});
    reload()
      .then((v) => {
        const local = load<LocalDraft>(draftKey);
        const server = v?.report.draft;
        if (local && (!server || local.at > Date.parse(server.created_at))) setContent(local.content);
        else if (server) setContent(server.content);
      })
      .catch((e) => setError(String(e.message ?? e)));
    // A second tab on the same case: take its edits.
    const onStorage = (e: StorageEvent) => {
      if (e.key === `lightbox.${draftKey}` && e.newValue) setContent((JSON.parse(e.newValue) as LocalDraft).content);
    };
    window.addEventListener('storage', onStorage);
    return () => window.removeEventListener('storage', onStorage);
  }, [uid, draftKey, reload]);

  const flush = useCallback(async (c: Content) => {
    clearTimeout(timer.current);
    if (!dirty.current) return;
    try {
      await api.saveDraft(uid, c);
      dirty.current = false;
      setSaved(`Draft saved ${new Date().toLocaleTimeString('en-GB')}`);
    } catch (e) {
      setSaved(`Not saved: ${e instanceof Error ? e.message : e}`);
    }
  }, [uid]);

  const update = (c: Content) => {
    setContent(c);
    dirty.current = true;
    save(draftKey, { content: c, at: Date.now() } satisfies LocalDraft);
    clearTimeout(timer.current);
    timer.current = setTimeout(() => void flush(c), 1200);
  };
  useEffect(() => () => clearTimeout(timer.current), []);

  const signed = correcting ? undefined : view?.report.base;
  const shownTemplates = useMemo(
    () => (allTemplates ? templates : templates.filter((t) => !t.modalities?.length || t.modalities.includes(modality))),
    [templates, allTemplates, modality],
  );
  const template = templates.find((t) => t.id === content.template_id);

  const pickTemplate = (id: string) => {
    const t = templates.find((x) => x.id === id);
    if (!t) return update({ ...content, template_id: undefined });
    const c: Content = { ...content, template_id: t.id, fields: { ...t.normal.fields, ...content.fields } };
    for (const s of sections) if (!c[s.key] && t.normal[s.key]) (c as Record<string, unknown>)[s.key] = t.normal[s.key];
    update(c);
  };

  const onKey = (e: KeyboardEvent<HTMLTextAreaElement>, key: keyof Content) => {
    const combo = comboOf(e);
    if (combo !== keys.expandMacro && combo !== 'Tab') return;
    const ta = e.currentTarget;
    const x = expandAt(ta.value, ta.selectionStart, macros);
    if (!x) return; // Tab without a macro moves focus as usual
    e.preventDefault();
    e.stopPropagation();
    update({ ...content, [key]: x.text });
    requestAnimationFrame(() => ta.setSelectionRange(x.cursor, x.cursor));
  };

  const moveField = (d: number) => {
    const els = Array.from(form.current?.querySelectorAll<HTMLElement>('textarea, select') ?? []);
    const i = els.indexOf(document.activeElement as HTMLElement);
    els[(i + d + els.length) % els.length]?.focus();
  };
  useAction('nextField', () => moveField(1));
  useAction('prevField', () => moveField(-1));

  async function sign(kind: 'prelim' | 'final') {
    setError('');
    clearTimeout(timer.current);
    try {
      const v = await api.sign(uid, kind, content);
      if (kind === 'final') caseClosed(uid); // the viewer windows clear
      const t = tally();
      save('shift', { ...t, cases: t.cases + 1, rvu: t.rvu + (v.work_rvu ?? 0) });
      dirty.current = false;
      remove(draftKey);
      await reload();
      setSaved(kind === 'final' ? 'Signed final' : 'Signed preliminary');
    } catch (e) {
      setError(e instanceof Error ? e.message : String(e));
    }
  }
  useAction('signFinal', () => void sign('final'));
  useAction('signPrelim', () => void sign('prelim'));

  async function signAddendum() {
    try {
      await api.addendum(uid, addendum);
      setAddendum('');
      await reload();
    } catch (e) {
      setError(e instanceof Error ? e.message : String(e));
    }
  }

  return (
    <section className="report-panel" aria-label="Report">
      <div className="report-head">
        <h2>Report</h2>
        <span className="badge" data-testid="report-status">{view?.report.status ?? 'new'}</span>
        <span className="muted small" role="status">{saved}</span>
      </div>
      {error && <p role="alert" className="error">{error}</p>}
      {signed && <SignedReport view={view!} />}
      {signed ? (
        <div className="addendum">
          <label>
            Addendum
            <textarea rows={3} value={addendum} onChange={(e) => setAddendum(e.target.value)} />
          </label>
          <div className="row">
            <button onClick={() => void signAddendum()} disabled={!addendum.trim()}>Sign addendum</button>
            <button onClick={() => { setContent(view!.report.base!.content); setCorrecting(true); }}>Correct…</button>
            <a className="button" href={api.pdfURL(uid)} target="_blank" rel="noreferrer">PDF</a>
            <button onClick={() => navigate('/')}>Worklist</button>
          </div>
        </div>
      ) : (
        <form ref={form} onSubmit={(e) => e.preventDefault()} className="report-form">
          <div className="row">
            <label>
              Template{' '}
              <select value={content.template_id ?? ''} onChange={(e) => pickTemplate(e.target.value)} aria-label="Template">
                <option value="">— none —</option>
                {shownTemplates.map((t) => (
                  <option key={t.id} value={t.id}>{t.name}</option>
                ))}
              </select>
            </label>
            <label className="small">
              <input type="checkbox" checked={allTemplates} onChange={(e) => setAllTemplates(e.target.checked)} /> all modalities
            </label>
          </div>
          {template?.fields?.map((f) => (
            <label key={f.id}>
              {f.label}{f.required ? ' *' : ''}
              <select value={content.fields?.[f.id] ?? ''} required={f.required}
                onChange={(e) => update({ ...content, fields: { ...content.fields, [f.id]: e.target.value } })}>
                <option value="">—</option>
                {f.options?.map((o) => (
                  <option key={o.value} value={o.value}>{o.label}</option>
                ))}
              </select>
            </label>
          ))}
          {sections.map((s) => (
            <label key={s.key}>
              {s.label}
              <textarea name={s.key} rows={s.rows} value={(content[s.key] as string) ?? ''} onKeyDown={(e) => onKey(e, s.key)}
                onChange={(e) => update({ ...content, [s.key]: e.target.value })} onBlur={() => void flush(content)} />
            </label>
          ))}
          <p className="muted small">Macros: type <code>.name</code> and press {keys.expandMacro} or Tab. Next field: {keys.nextField}.</p>
          {correcting ? (
            <div className="row">
              <button type="button" className="primary" onClick={() => setAskReason(true)}>Sign correction</button>
              <button type="button" onClick={() => setCorrecting(false)}>Cancel correction</button>
            </div>
          ) : (
          <div className="row">
            <button type="button" onClick={() => void sign('prelim')}>Sign preliminary</button>
            <button type="button" className="primary" onClick={() => void sign('final')}>Sign final</button>
            <button type="button" onClick={() => setShowPreview(!showPreview)} aria-expanded={showPreview}>Preview</button>
            <button type="button" className="danger" onClick={onCritical}>Critical…</button>
          </div>
          )}
        </form>
      )}
      {askReason && (
        <ReasonDialog title="Sign correction" label="Reason for the correction" submit="Sign correction" onCancel={() => setAskReason(false)}
          onSubmit={async (reason) => {
            await api.correct(uid, content, reason);
            setAskReason(false);
            setCorrecting(false);
            remove(draftKey);
            await reload();
          }} />
      )}
      <IRCandidate uid={uid} reportId={view?.report.id} impression={view?.report.base?.content.impression ?? content.impression} />
      {showPreview && !signed && (
        <pre className="preview" aria-label="Preview as the clinician receives it">{preview(content, template)}</pre>
      )}
    </section>
  );
}

function SignedReport({ view }: { view: ReportView }) {
  const b = view.report.base!;
  return (
    <article className="signed" aria-label="Signed report">
      <p className="small muted">
        {b.kind} signed by {b.signer?.display || b.author} {b.signed_at ? new Date(b.signed_at).toLocaleString('en-GB') : ''}
      </p>
      <pre className="preview">{preview(b.content)}</pre>
      {view.report.addenda?.map((a) => (
        <div key={a.seq} className="small">
          <strong>Addendum</strong> ({a.author}): {a.text}
        </div>
      ))}
    </article>
  );
}
