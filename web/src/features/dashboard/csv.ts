// CSV as RFC 4180 says: fields with a comma, quote or line break are
// quoted, quotes doubled, lines end in CRLF.
export type Cell = string | number;

export function csvField(v: Cell): string {
  const s = String(v);
  return /[",\r\n]/.test(s) ? `"${s.replace(/"/g, '""')}"` : s;
}

export function toCSV(header: string[], rows: Cell[][]): string {
  return [header, ...rows].map((r) => r.map(csvField).join(',')).join('\r\n') + '\r\n';
}

// isoDay formats a Date as YYYY-MM-DD in UTC (the dashboards' day unit).
export function isoDay(d: Date): string {
  return d.toISOString().slice(0, 10);
}

// daysBefore is the UTC day n days before today.
export function daysBefore(n: number, now = Date.now()): string {
  return isoDay(new Date(now - n * 86400000));
}
