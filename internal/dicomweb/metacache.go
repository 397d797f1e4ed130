package dicomweb

import (
	"bytes"
	"compress/gzip"
	"sync"

	"lightbox/internal/query"
)

// metaCache keeps assembled metadata responses (and QIDO-RS instance
// lists of a series, and the instances a whole-series WADO-RS resolves to) (series and study
// metadata is what a viewer asks for first, and a 1,000-instance series is
// megabytes of JSON read from as many index rows). An entry is used only
// while the target's query.MetaVersion is unchanged, which every request
// checks with one aggregate query: a store, replacement or deletion on
// any node of a cluster shows there. Bounded in bytes (of the plain body;
// a gzipped copy, made when first asked for, is a fraction of it); an
// arbitrary entry leaves when a new one does not fit.
type metaCache struct {
	mu    sync.Mutex
	max   int
	size  int
	items map[string]*metaEntry
}

type metaEntry struct {
	ver     query.MetaVersion
	etag    string // "" for none
	body    []byte
	warning string // a Warning header sent with the body (QIDO-RS paging)
	// files is the resolved instance list of a whole-study or whole-series
	// WADO-RS (shared by requests: read only).
	files []query.Instance
	key   string // where files is kept ("" when it is not)
	// prefixes are the lengths of what makes each of files a Part 10 file
	// (openInstance), learnt by a request that read them; nil until then.
	prefixes []int32

	gzOnce sync.Once
	gz     []byte
}

// gzipped is the body gzip-compressed, made on first use.
func (e *metaEntry) gzipped() []byte {
	e.gzOnce.Do(func() {
		var b bytes.Buffer
		zw, _ := gzip.NewWriterLevel(&b, gzip.BestSpeed)
		_, _ = zw.Write(e.body)
		_ = zw.Close()
		e.gz = b.Bytes()
	})
	return e.gz
}

func (c *metaCache) get(key string, ver query.MetaVersion) *metaEntry {
	c.mu.Lock()
	defer c.mu.Unlock()
	if e, ok := c.items[key]; ok && e.ver == ver {
		return e
	}
	return nil
}

// cost is what an entry counts against the cache's bound: its bytes,
// roughly for an instance list.
func (e *metaEntry) cost() int { return len(e.body) + 384*len(e.files) }

func (c *metaCache) put(key string, e *metaEntry) {
	if e.cost() > c.max/8 {
		return
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.items == nil {
		c.items = map[string]*metaEntry{}
	}
	if old, ok := c.items[key]; ok {
		c.size -= old.cost()
		delete(c.items, key)
	}
	for k, old := range c.items {
		if c.size+e.cost() <= c.max {
			break
		}
		c.size -= old.cost()
		delete(c.items, k)
	}
	c.items[key] = e
	c.size += e.cost()
}
