import { useEffect, useRef, useState } from 'react';
import type { ChatMessage } from '../../api/types';

// Chat shows a thread oldest first and sends a new message.
export function Chat({ messages, me, label, testid, onSend }: {
  messages: ChatMessage[]; me: string; label: string; testid: string; onSend: (body: string) => Promise<void>;
}) {
  const [text, setText] = useState('');
  const end = useRef<HTMLLIElement>(null);
  useEffect(() => {
    // (braces: newer browsers return a promise from scrollIntoView)
    end.current?.scrollIntoView?.({ block: 'nearest' });
  }, [messages.length]);
  return (
    <div className="chat">
      <ul className="chat-list" aria-label={label} data-testid={testid}>
        {messages.map((m) => (
          <li key={m.id} className={m.author === me ? 'mine' : ''}>
            <span className="small muted">{m.author} · {new Date(m.created_at).toLocaleTimeString()}</span>
            <div>{m.body}</div>
          </li>
        ))}
        <li ref={end} aria-hidden="true" />
      </ul>
      <form onSubmit={async (e) => {
        e.preventDefault();
        if (!text.trim()) return;
        await onSend(text);
        setText('');
      }}>
        <input value={text} onChange={(e) => setText(e.target.value)} aria-label={`Message to ${label.toLowerCase()}`} placeholder="Message" />
        <button type="submit">Send</button>
      </form>
    </div>
  );
}
