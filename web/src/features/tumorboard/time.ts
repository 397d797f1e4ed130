// localInput turns an ISO time into the value of a datetime-local input
// (the browser's zone); fromLocalInput does the reverse.
export function localInput(iso: string | Date): string {
  const d = new Date(iso);
  const pad = (n: number) => String(n).padStart(2, '0');
  return `${d.getFullYear()}-${pad(d.getMonth() + 1)}-${pad(d.getDate())}T${pad(d.getHours())}:${pad(d.getMinutes())}`;
}

export function fromLocalInput(v: string): string {
  return new Date(v).toISOString();
}

// list splits a comma-separated field into trimmed, non-empty items.
export function list(v: string): string[] {
  return v.split(',').map((s) => s.trim()).filter(Boolean);
}

// when formats a board's time span briefly.
export function when(start: string, end: string): string {
  const s = new Date(start);
  const e = new Date(end);
  const t = (d: Date) => d.toLocaleTimeString(undefined, { hour: '2-digit', minute: '2-digit' });
  return `${s.toLocaleDateString()} ${t(s)}–${t(e)}`;
}
