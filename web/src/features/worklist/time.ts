// Deadline countdowns and facility local time: pure functions, so the
// worklist shows the same thing whatever the reader's own time zone is.

export interface Countdown {
  text: string; // "1:05:09", "-0:02:00" (overdue)
  seconds: number; // negative once overdue
  risk: 'ok' | 'soon' | 'late';
}

// atRiskSeconds: a case due within this long is shown red.
export const atRiskSeconds = 15 * 60;

export function countdown(deadline: string | undefined, now: number): Countdown | null {
  if (!deadline) return null;
  const t = Date.parse(deadline);
  if (Number.isNaN(t)) return null;
  const seconds = Math.floor((t - now) / 1000);
  const a = Math.abs(seconds);
  const h = Math.floor(a / 3600);
  const m = Math.floor((a % 3600) / 60);
  const s = a % 60;
  const text = `${seconds < 0 ? '-' : ''}${h}:${String(m).padStart(2, '0')}:${String(s).padStart(2, '0')}`;
  const risk = seconds < 0 ? 'late' : seconds <= atRiskSeconds ? 'soon' : 'ok';
  return { text, seconds, risk };
}

// localTime is the wall-clock time at a facility ("14:05 CST").
export function localTime(timeZone: string | undefined, now: number): string {
  if (!timeZone) return '';
  try {
    return new Intl.DateTimeFormat('en-US', { timeZone, hour: '2-digit', minute: '2-digit', timeZoneName: 'short', hourCycle: 'h23' }).format(
      new Date(now),
    );
  } catch {
    return '';
  }
}

// age in whole years at `now` from a DICOM date (YYYYMMDD).
export function age(birthDate: string, now: number): string {
  const m = /^(\d{4})(\d{2})(\d{2})$/.exec(birthDate);
  if (!m) return '';
  const d = new Date(now);
  let y = d.getUTCFullYear() - Number(m[1]);
  const md = (d.getUTCMonth() + 1) * 100 + d.getUTCDate();
  if (md < Number(m[2]) * 100 + Number(m[3])) y--;
  return y >= 0 ? String(y) : '';
}
