// Keys for every reading action. Dictation microphones' buttons arrive as
// ordinary key presses (often F-keys), so each action is bound to a key
// combination the reader chooses; the map is saved on the server.

export const actions = {
  nextField: 'Next report field',
  prevField: 'Previous report field',
  expandMacro: 'Expand macro',
  signFinal: 'Sign final',
  signPrelim: 'Sign preliminary',
  nextCase: 'Next case',
  release: 'Release case',
  critical: 'Critical result',
  worklist: 'Back to worklist',
} as const;

export type Action = keyof typeof actions;
export type KeyMap = Partial<Record<Action, string>>;

export const defaultKeys: Record<Action, string> = {
  nextField: 'F3',
  prevField: 'Shift+F3',
  expandMacro: 'F2',
  signFinal: 'Ctrl+Shift+F',
  signPrelim: 'Ctrl+Shift+P',
  nextCase: 'Ctrl+Shift+N',
  release: 'Ctrl+Shift+R',
  critical: 'Ctrl+Shift+C',
  worklist: 'Ctrl+Shift+W',
};

interface KeyLike {
  key: string;
  ctrlKey?: boolean;
  altKey?: boolean;
  shiftKey?: boolean;
  metaKey?: boolean;
}

// comboOf names a key press canonically: modifiers in a fixed order, then
// the key (letters upper-cased), e.g. "Ctrl+Shift+F".
export function comboOf(e: KeyLike): string {
  if (['Control', 'Shift', 'Alt', 'Meta'].includes(e.key)) return '';
  const parts: string[] = [];
  if (e.ctrlKey) parts.push('Ctrl');
  if (e.altKey) parts.push('Alt');
  if (e.shiftKey) parts.push('Shift');
  if (e.metaKey) parts.push('Meta');
  const k = e.key === ' ' ? 'Space' : e.key.length === 1 ? e.key.toUpperCase() : e.key;
  parts.push(k);
  return parts.join('+');
}

// normalise rewrites a typed combination ("shift+ctrl+f") canonically.
export function normalise(combo: string): string {
  const parts = combo.split('+').map((p) => p.trim()).filter(Boolean);
  if (parts.length === 0) return '';
  const key = parts[parts.length - 1];
  const mods = new Set(parts.slice(0, -1).map((m) => m.toLowerCase()));
  return comboOf({
    key: key.length === 1 ? key : key[0].toUpperCase() + key.slice(1),
    ctrlKey: mods.has('ctrl') || mods.has('control'),
    altKey: mods.has('alt'),
    shiftKey: mods.has('shift'),
    metaKey: mods.has('meta') || mods.has('cmd'),
  });
}

// resolve merges a reader's map over the defaults.
export function resolve(m: KeyMap | undefined): Record<Action, string> {
  const out = { ...defaultKeys };
  for (const [a, k] of Object.entries(m ?? {})) {
    if (a in out && typeof k === 'string') out[a as Action] = normalise(k);
  }
  return out;
}

// actionFor finds the action bound to a key press, or null.
export function actionFor(keys: Record<Action, string>, e: KeyLike): Action | null {
  const c = comboOf(e);
  if (!c) return null;
  for (const [a, k] of Object.entries(keys)) if (k === c) return a as Action;
  return null;
}

// conflicts lists key combinations bound to more than one action.
export function conflicts(keys: Record<Action, string>): string[] {
  const seen = new Map<string, number>();
  for (const k of Object.values(keys)) if (k) seen.set(k, (seen.get(k) ?? 0) + 1);
  return [...seen].filter(([, n]) => n > 1).map(([k]) => k);
}
