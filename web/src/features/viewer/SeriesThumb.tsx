import { useState } from 'react';

// SeriesThumb: a series' rendered thumbnail, or its modality on black when
// the server cannot render one (it answers 406 for a syntax it cannot
// decode, e.g. JPEG 2000 in the default build) instead of a broken image.
export function SeriesThumb({ src, label, modality }: { src: string; label: string; modality: string }) {
  const [failed, setFailed] = useState(false);
  if (failed) {
    return <div className="thumb-none" role="img" aria-label={`${label}: no thumbnail`}>{modality || '—'}</div>;
  }
  return <img src={src} alt={label} loading="lazy" onError={() => setFailed(true)} />;
}
