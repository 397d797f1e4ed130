import { useState } from 'react';
import { FacilitiesPanel } from './FacilitiesPanel';
import { GapMap } from './GapMap';

// GroupPage: running the group — its facilities (import/export for
// administrators) and the coverage gap map of the coming day.
export function GroupPage({ admin }: { admin: boolean }) {
  // an import can change coverage: the map reloads after one
  const [version, setVersion] = useState(0);
  return (
    <main aria-labelledby="group-title" className="group">
      <h1 id="group-title">Group</h1>
      <FacilitiesPanel admin={admin} onChanged={() => setVersion((v) => v + 1)} />
      <GapMap version={version} />
    </main>
  );
}
