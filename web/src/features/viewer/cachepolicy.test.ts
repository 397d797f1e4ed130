import { describe, expect, it } from 'vitest';
import { cache } from '@cornerstonejs/core';
import { cacheLimit, cachePolicy, defaultCacheMB, onCachePolicy, setCachePolicy } from './cachepolicy';

describe('cache limit', () => {
  it('defaults to 4 GiB', () => expect(cacheLimit(undefined, {})).toEqual({ mb: defaultCacheMB, wantedMB: defaultCacheMB, capMB: undefined }));
  it('keeps what the reader chose within bounds', () => {
    expect(cacheLimit(1024, {}).mb).toBe(1024);
    expect(cacheLimit(10, {}).mb).toBe(256);
    expect(cacheLimit(1e9, {}).mb).toBe(64 * 1024);
  });
  it('holds it to half of a small device memory', () => {
    const l = cacheLimit(undefined, { deviceGB: 4 });
    expect(l.mb).toBe(2048);
    expect(l.why).toMatch(/4 GB of memory/);
  });
  it('8 GB reported means 8 or more: no cap', () => expect(cacheLimit(16384, { deviceGB: 8 }).mb).toBe(16384));
  it('a 64-bit heap limit does not cap, a small one does', () => {
    expect(cacheLimit(undefined, { heapLimitBytes: 4294705152 }).mb).toBe(defaultCacheMB);
    expect(cacheLimit(undefined, { heapLimitBytes: 2 ** 30 }).mb).toBe(1024);
  });
  it('the smaller cap wins', () => expect(cacheLimit(undefined, { deviceGB: 2, heapLimitBytes: 2 ** 31 }).mb).toBe(1024));
});

describe('cache policy', () => {
  it('follows the preferences and tells its watchers', () => {
    const seen: number[] = [];
    const off = onCachePolicy((p) => seen.push(p.bytes));
    setCachePolicy({ cache_mb: 512 });
    setCachePolicy({ cache_mb: 512 }); // unchanged: no call
    setCachePolicy({ cache_mb: 1024, prefetch_off: true });
    off();
    expect(seen).toEqual([defaultCacheMB * 2 ** 20, 512 * 2 ** 20, 1024 * 2 ** 20]);
    expect(cachePolicy().prefetch).toBe(false);
    setCachePolicy({});
  });
});

// Cornerstone's image cache, bounded as cornerstone.ts bounds it: the
// least recently used image leaves first.
describe('image cache', () => {
  const put = async (id: string, bytes: number) => {
    const image = { imageId: id, sizeInBytes: bytes } as never;
    await cache.putImageLoadObject(id, { promise: Promise.resolve(image) } as never);
  };
  it('evicts the least recently used image', async () => {
    cache.purgeCache();
    cache.setMaxCacheSize(300);
    await put('a', 100);
    await new Promise((r) => setTimeout(r, 5));
    await put('b', 100);
    await new Promise((r) => setTimeout(r, 5));
    await put('c', 100);
    await new Promise((r) => setTimeout(r, 5));
    cache.getImageLoadObject('a'); // a is looked at again: b is now the oldest
    await new Promise((r) => setTimeout(r, 5));
    await put('d', 100);
    expect(['a', 'b', 'c', 'd'].filter((id) => cache.getImageLoadObject(id))).toEqual(['a', 'c', 'd']);
    expect(cache.getCacheSize()).toBe(300);
    // A smaller bound applies at once (cornerstone.ts does this).
    cache.setMaxCacheSize(150);
    cache.decacheIfNecessaryUntilBytesAvailable(0);
    expect(cache.getCacheSize()).toBeLessThanOrEqual(150);
    cache.purgeCache();
    expect(cache.getCacheSize()).toBe(0);
  });
});
