package handlers

import (
	"context"
	"time"
)

// Housekeeping purges ended sessions every few minutes until ctx ends.
func (h *Handler) Housekeeping(ctx context.Context) {
	t := time.NewTicker(10 * time.Minute)
	defer t.Stop()
	for {
		now := h.now()
		if n, err := h.store.PurgeSessions(now.Add(-h.cfg.IdleTimeout), now.Add(-h.cfg.SessionLifetime)); err != nil {
			h.log.Error("unable to purge sessions", "err", err)
		} else if n > 0 {
			h.log.Info("purged ended sessions", "count", n)
		}
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		}
	}
}
