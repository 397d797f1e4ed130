// The DICOM tag browser: the attributes of the image on display, as the
// server's DICOM JSON metadata (PS3.18 F.2) carries them.
import { useState } from 'react';
import type { DicomJSON } from '../../api/types';

export function valueText(a: { vr: string; Value?: unknown[]; BulkDataURI?: string; InlineBinary?: string }): string {
  if (a.BulkDataURI || a.InlineBinary) return '(bulk data)';
  if (a.vr === 'SQ') return `${a.Value?.length ?? 0} item(s)`;
  return (a.Value ?? [])
    .map((v) => (v && typeof v === 'object' && 'Alphabetic' in v ? String((v as { Alphabetic: string }).Alphabetic) : String(v)))
    .join('\\');
}

export function TagBrowser({ inst }: { inst: DicomJSON }) {
  const [filter, setFilter] = useState('');
  const f = filter.trim().toLowerCase();
  const rows = Object.entries(inst)
    .sort(([a], [b]) => (a < b ? -1 : 1)) // tag order (metadata.ts mergeShared puts the shared ones first)
    .map(([t, a]) => ({ tag: `(${t.slice(0, 4)},${t.slice(4)})`, vr: a.vr, value: valueText(a) }))
    .filter((r) => !f || r.tag.toLowerCase().includes(f) || r.value.toLowerCase().includes(f));
  return (
    <div className="viewer-tags" role="dialog" aria-label="DICOM tags">
      <input aria-label="Filter tags" placeholder="Filter (tag or value)" value={filter} onChange={(e) => setFilter(e.target.value)} />
      <table data-testid="tags">
        <tbody>
          {rows.map((r) => (
            <tr key={r.tag}>
              <td className="mono">{r.tag}</td>
              <td>{r.vr}</td>
              <td>{r.value}</td>
            </tr>
          ))}
        </tbody>
      </table>
    </div>
  );
}
