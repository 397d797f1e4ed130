// The series retrieve of bulk.ts, read off the main thread: this worker
// fetches the multipart response, splits it into instances, finds each
// one's pixel data and hands the instance's buffer over (transferred, not
// copied). The page returns a credit per instance once it has decoded it,
// so no more than `credits` instances wait in the page at once.
import { nativePixels, streamParts } from './frames';

export interface BulkPart {
  sop: string;
  data: Uint8Array;
  ts: string; // '' when the pixel data is not native
  offset: number;
  length: number;
}
export type BulkMessage = { part: BulkPart } | { done: true } | { error: string };

let credits = 0;
let wake: (() => void) | null = null;

self.onmessage = (e: MessageEvent<{ url: string; accept: string; credits?: number } | { credit: number }>) => {
  if ('credit' in e.data) {
    credits += e.data.credit;
    wake?.();
    wake = null;
    return;
  }
  const { url, accept } = e.data;
  credits = e.data.credits ?? 24;
  const post = (m: BulkMessage, transfer: Transferable[] = []) => self.postMessage(m, { transfer });
  (async () => {
    const res = await fetch(url, { headers: { Accept: accept }, credentials: 'same-origin' });
    if (!res.ok) throw new Error(`series retrieve: HTTP ${res.status}`);
    await streamParts(res, async (h, data) => {
      while (credits <= 0) await new Promise<void>((ok) => (wake = ok));
      credits--;
      const sop = decodeURIComponent((h['content-location'] ?? '').split('/').pop() ?? '');
      const px = nativePixels(data);
      post({ part: { sop, data, ts: px?.ts ?? '', offset: px?.offset ?? 0, length: px?.length ?? 0 } }, [data.buffer]);
    });
    post({ done: true });
  })().catch((err) => post({ error: String(err) }));
};
