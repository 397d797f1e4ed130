import { useState } from 'react';
import { ReadersPanel } from './ReadersPanel';
import { WeekCalendar } from './WeekCalendar';

// RosterPage: the readers and their week.
export function RosterPage() {
  const [version, setVersion] = useState(0);
  return (
    <main aria-labelledby="roster-title" className="roster">
      <h1 id="roster-title">Readers & shifts</h1>
      <WeekCalendar version={version} />
      <ReadersPanel onChanged={() => setVersion((v) => v + 1)} />
    </main>
  );
}
