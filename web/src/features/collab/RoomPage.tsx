import { useCallback, useEffect, useState } from 'react';
import { collab } from '../../api/client';
import type { ChatMessage, Room, RoomStatusValue } from '../../api/types';
import { usePresence } from '../worklist/useWorklist';
import { Chat } from './Chat';
import { useLive } from './useLive';
import './collab.css';

const statusLabel: Record<RoomStatusValue, string> = { reading: 'Reading', available: 'Available for consults', away: 'Away' };

// RoomPage is the virtual reading room: who is on now, by subspecialty,
// with the status each reader chose to show, and the group channel.
export function RoomPage({ me, reader }: { me: string; reader: boolean }) {
  const [room, setRoom] = useState<Room | null>(null);
  const load = useCallback(() => void collab.room().then(setRoom).catch(() => {}), []);
  useEffect(() => {
    load();
    const t = setInterval(load, 30000); // presence changes without events
    return () => clearInterval(t);
  }, [load]);
  // Being in the room is being on: heartbeats as on the worklist.
  usePresence(room?.me.status === 'away' ? 'away' : 'available', reader && room !== null, load);
  useLive(collab.roomEventsURL, (ev) => {
    if (ev.kind === 'message') {
      const m = ev.data as ChatMessage;
      setRoom((r) => (r && !r.messages.some((x) => x.id === m.id) ? { ...r, messages: [...r.messages, m] } : r));
    } else if (ev.kind === 'status') load();
  });
  if (!room) return <main className="room"><p className="muted">Loading…</p></main>;

  const groups = new Map<string, Room['members']>();
  for (const m of room.members) {
    const g = m.subspecialties[0] ?? 'general';
    groups.set(g, [...(groups.get(g) ?? []), m]);
  }
  const setStatus = async (status: RoomStatusValue, visible: boolean) => {
    const st = await collab.setStatus({ status, visible });
    setRoom((r) => (r ? { ...r, me: st } : r));
    load();
  };
  return (
    <main className="room" aria-label="Reading room">
      <section className="room-people">
        <h1>Reading room</h1>
        {reader && (
          <div className="room-me">
            <label>
              My status{' '}
              <select aria-label="My status" value={room.me.status} onChange={(e) => void setStatus(e.target.value as RoomStatusValue, room.me.visible)}>
                {(Object.keys(statusLabel) as RoomStatusValue[]).map((s) => <option key={s} value={s}>{statusLabel[s]}</option>)}
              </select>
            </label>
            <label className="small">
              <input type="checkbox" checked={room.me.visible} onChange={(e) => void setStatus(room.me.status, e.target.checked)} /> Show me to colleagues
            </label>
          </div>
        )}
        <p className="muted small">{room.members.length} on now · only colleagues who chose to show</p>
        {[...groups.entries()].map(([g, ms]) => (
          <div key={g} className="room-group">
            <h2>{g}</h2>
            <ul data-testid={`room-${g}`}>
              {ms.map((m) => (
                <li key={m.username} className={`room-member st-${m.status ?? 'none'}`} data-testid={`member-${m.username}`}>
                  <span className={`dot p-${m.presence}`} aria-hidden="true" />
                  <strong>{m.name || m.username}</strong>
                  <span className="small muted">{m.username}{m.username === me ? ' (you)' : ''}</span>
                  <span className="small">{m.status ? statusLabel[m.status] : '—'}</span>
                  <span className="small muted">{m.on_shift ? 'on shift' : 'off shift'} · {m.presence}</span>
                  <span className="small muted">{m.subspecialties.join(', ')}</span>
                </li>
              ))}
            </ul>
          </div>
        ))}
      </section>
      <section className="room-channel">
        <h2>Group channel</h2>
        <Chat messages={room.messages} me={me} label="Group channel" testid="room-channel"
          onSend={async (body) => {
            const m = await collab.postRoom(body);
            setRoom((r) => (r && !r.messages.some((x) => x.id === m.id) ? { ...r, messages: [...r.messages, m] } : r));
          }} />
      </section>
    </main>
  );
}
