package share

import (
	"slices"
	"sync"

	"foyer/store"
)

// linkCache keeps what admission read of the links visited lately (the
// share, its recipients' numbers as they are now, its audience), each under
// the store's stamp it was read at. An entry answers only while the store
// has not been written since, so it is what a read would find, and a
// landing opened many times (a link handed to a group, a crowd, a flood)
// costs no read after the first. Time is not kept: whether the share
// has expired is asked again each time (Usable).
type linkCache struct {
	mu sync.Mutex
	m  map[string]linkEntry // by the token's LinkKey, never the token
}

type linkEntry struct {
	stamp uint64
	share store.Share
	aud   Audience
}

// linkCacheSize bounds the cache: past it the entries go, all at once (a
// write makes them all useless anyway).
const linkCacheSize = 4096

// get returns a copy of what was kept for key, if the store has stayed as it was then.
func (c *linkCache) get(key string, st *store.Store) (store.Share, Audience, bool) {
	stamp, quiet := st.Stamp()
	if !quiet {
		return store.Share{}, Audience{}, false
	}
	c.mu.Lock()
	e, ok := c.m[key]
	c.mu.Unlock()
	if !ok || e.stamp != stamp {
		return store.Share{}, Audience{}, false
	}
	return e.share.Clone(), Audience{Allowed: slices.Clone(e.aud.Allowed), Unnamed: e.aud.Unnamed}, true
}

// put keeps a copy of what was read under stamp.
func (c *linkCache) put(key string, stamp uint64, sh store.Share, aud Audience) {
	e := linkEntry{stamp: stamp, share: sh.Clone(), aud: Audience{Allowed: slices.Clone(aud.Allowed), Unnamed: aud.Unnamed}}
	c.mu.Lock()
	if c.m == nil || len(c.m) >= linkCacheSize {
		c.m = make(map[string]linkEntry)
	}
	c.m[key] = e
	c.mu.Unlock()
}
