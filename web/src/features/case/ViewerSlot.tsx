import { useEffect, useState } from 'react';
import { api, tag } from '../../api/client';
import type { DicomJSON } from '../../api/types';

// ViewerSlot is where the diagnostic viewer mounts (the next step); until
// then it lists the series and shows key images rendered by the server
// (WADO-RS /rendered): the middle instance of each series.
export function ViewerSlot({ study, series }: { study: string; series: DicomJSON[] }) {
  return (
    <section className="viewer-slot" data-slot="viewer" aria-label="Images">
      <h2 className="sr-only">Series</h2>
      {series.length === 0 && <p className="muted">No series yet.</p>}
      <ul className="series-list">
        {series.map((s) => (
          <SeriesCard key={tag(s, '0020000E')} study={study} s={s} />
        ))}
      </ul>
    </section>
  );
}

function SeriesCard({ study, s }: { study: string; s: DicomJSON }) {
  const uid = tag(s, '0020000E');
  const [sop, setSop] = useState('');
  useEffect(() => {
    api
      .instances(study, uid)
      .then((is) => {
        const sorted = [...is].sort((a, b) => Number(tag(a, '00200013')) - Number(tag(b, '00200013')));
        setSop(tag(sorted[Math.floor(sorted.length / 2)] ?? {}, '00080018'));
      })
      .catch(() => {});
  }, [study, uid]);
  const n = tag(s, '00201209');
  return (
    <li className="series-card">
      <div className="series-img">
        {sop ? <img src={api.renderedURL(study, uid, sop)} alt={`Key image of series ${tag(s, '00200011')}`} loading="lazy" /> : <span className="muted">…</span>}
      </div>
      <div className="small">
        <strong>{tag(s, '00080060')} {tag(s, '00200011')}</strong> {tag(s, '0008103E')}
        <div className="muted">{n} image{n === '1' ? '' : 's'}</div>
      </div>
    </li>
  );
}
