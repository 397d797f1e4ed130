// Everything the app keeps in the browser goes through here, under one
// prefix, so logout can prove it left nothing behind.
const prefix = 'lightbox.';

export function save(key: string, value: unknown) {
  try {
    localStorage.setItem(prefix + key, JSON.stringify(value));
  } catch {
    // storage full or disabled: the server copy still counts
  }
}

export function load<T>(key: string): T | null {
  try {
    const v = localStorage.getItem(prefix + key);
    return v === null ? null : (JSON.parse(v) as T);
  } catch {
    return null;
  }
}

export function remove(key: string) {
  localStorage.removeItem(prefix + key);
}

// clearAll empties every browser store this origin has: local and session
// storage, Cache Storage and IndexedDB (the viewer's image cache will live
// there). The server's logout also sends Clear-Site-Data.
const clearHooks = new Set<() => void>();

// onClear registers an in-memory store (the viewer's decoded images) that
// clearAll empties too.
export function onClear(f: () => void) {
  clearHooks.add(f);
}

export async function clearAll() {
  clearHooks.forEach((f) => f());
  localStorage.clear();
  sessionStorage.clear();
  if ('caches' in window) {
    for (const k of await caches.keys()) await caches.delete(k);
  }
  if ('indexedDB' in window && indexedDB.databases) {
    for (const d of await indexedDB.databases()) if (d.name) indexedDB.deleteDatabase(d.name);
  }
}
