import { useEffect, useState } from 'react';
import { useNow } from '../../router';
import { load, save } from '../../storage';
import { usePrefs } from './prefs';

export interface ShiftTally {
  start: number;
  cases: number;
  rvu: number;
}

// tally is this sign-in's count of signed cases and RVUs (kept with the
// other browser state, cleared at logout).
export function tally(): ShiftTally {
  const t = load<ShiftTally>('shift');
  if (t) return t;
  const fresh = { start: Date.now(), cases: 0, rvu: 0 };
  save('shift', fresh);
  return fresh;
}

// BreakReminder: every break_minutes (20 by default, 0 = off) a 20-20-20
// reminder — look at something 20 feet away for 20 seconds; and the
// shift's hours, cases and RVUs in a corner.
export function BreakReminder() {
  const { prefs } = usePrefs();
  const now = useNow(15000);
  const [due, setDue] = useState(() => Date.now() + prefs.break_minutes * 60000);
  useEffect(() => setDue(Date.now() + prefs.break_minutes * 60000), [prefs.break_minutes]);
  const t = tally();
  // now ticks every 15 s and may lag the tally just started: never "-0.0 h".
  const hours = (Math.max(0, now - t.start) / 3600000).toFixed(1);
  const remind = prefs.break_minutes > 0 && now >= due;
  return (
    <>
      <div className="shift small muted" aria-label="This shift">
        {hours} h · {t.cases} cases · {t.rvu.toFixed(1)} RVU
      </div>
      {remind && (
        <div role="status" className="break">
          Eye break: look at something 20 feet (6 m) away for 20 seconds.{' '}
          <button onClick={() => setDue(Date.now() + prefs.break_minutes * 60000)}>Done</button>
        </div>
      )}
    </>
  );
}
