import { useEffect, useId, useRef, useState, type ReactNode } from 'react';

// NavMenu: one top-bar group of links behind a disclosure button (the
// WAI-ARIA disclosure navigation pattern, so its entries stay links).
// Enter/Space/click opens it, ArrowDown moves into it, Escape closes it and
// returns focus to the button, and it closes when focus or a click leaves
// it or a link in it is followed.
export function NavMenu({ label, active, children }: { label: string; active: boolean; children: ReactNode }) {
  const [open, setOpen] = useState(false);
  const box = useRef<HTMLDivElement>(null);
  const button = useRef<HTMLButtonElement>(null);
  const id = useId();
  useEffect(() => {
    if (!open) return;
    const away = (e: Event) => {
      if (box.current && !box.current.contains(e.target as Node)) setOpen(false);
    };
    document.addEventListener('pointerdown', away);
    document.addEventListener('focusin', away);
    return () => {
      document.removeEventListener('pointerdown', away);
      document.removeEventListener('focusin', away);
    };
  }, [open]);
  const links = () => [...(box.current?.querySelectorAll<HTMLAnchorElement>('.menu-list a') ?? [])];
  const onKey = (e: React.KeyboardEvent) => {
    if (e.key === 'Escape' && open) {
      e.preventDefault();
      setOpen(false);
      button.current?.focus();
      return;
    }
    if (e.key !== 'ArrowDown' && e.key !== 'ArrowUp') return;
    e.preventDefault();
    if (!open) {
      setOpen(true);
      requestAnimationFrame(() => links()[0]?.focus());
      return;
    }
    const ls = links();
    const i = ls.indexOf(document.activeElement as HTMLAnchorElement);
    const next = e.key === 'ArrowDown' ? (i + 1) % ls.length : (i - 1 + ls.length) % ls.length;
    ls[next]?.focus();
  };
  return (
    <div className="menu" ref={box} onKeyDown={onKey} onClick={(e) => { if ((e.target as HTMLElement).closest('a')) setOpen(false); }}>
      <button ref={button} type="button" className={active ? 'menu-button active' : 'menu-button'} aria-expanded={open} aria-controls={id}
        onClick={() => setOpen((o) => !o)}>
        {label} <span aria-hidden="true">▾</span>
      </button>
      <div id={id} className="menu-list" hidden={!open}>{children}</div>
    </div>
  );
}
