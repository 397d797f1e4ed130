// Macro expansion at the cursor: the reader types ".name" and presses the
// expand key; the word before the cursor becomes the macro's text. The
// server expands the same ".name" syntax in whole texts
// (report.ExpandMacros); this is the interactive half.

export interface Expansion {
  text: string;
  cursor: number;
}

const nameChar = /[A-Za-z0-9_-]/;

// expandAt replaces the ".name" ending at cursor, if it names a macro.
export function expandAt(text: string, cursor: number, macros: Record<string, string>): Expansion | null {
  let i = cursor;
  while (i > 0 && nameChar.test(text[i - 1])) i--;
  if (i === 0 || text[i - 1] !== '.' || i === cursor) return null;
  const dot = i - 1;
  if (dot > 0 && !/\s/.test(text[dot - 1])) return null; // "e.g" is not a macro
  const body = macros[text.slice(i, cursor).toLowerCase()];
  if (body === undefined) return null;
  return { text: text.slice(0, dot) + body + text.slice(cursor), cursor: dot + body.length };
}
