import type { Content, Template } from '../../api/types';

// preview lays a report out as the clinician receives it (the ORU's text
// and the PDF carry the same sections in the same order).
export function preview(c: Content, t?: Template): string {
  const out: string[] = [];
  const add = (label: string, v?: string) => {
    if (v && v.trim()) out.push(`${label.toUpperCase()}:\n${v.trim()}\n`);
  };
  add('Clinical history', c.clinical_history);
  add('Technique', c.technique);
  add('Comparison', c.comparison);
  add('Findings', c.findings);
  for (const f of t?.fields ?? []) {
    const v = c.fields?.[f.id];
    if (v) out.push(`${f.label}: ${f.options?.find((o) => o.value === v)?.label ?? v}`);
  }
  if (!t && c.fields) for (const [k, v] of Object.entries(c.fields)) out.push(`${k}: ${v}`);
  add('Impression', c.impression);
  return out.join('\n');
}
