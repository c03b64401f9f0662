package handlers

// sweepShares purges at once what the shares a request just ended held (their
// files, their snapshot), rather than at the next run of the jobs; it is the
// share engine's sweep, which the jobs run every minute as well.
func (h *Handler) sweepShares() {
	if _, err := h.shares.Sweep(); err != nil {
		h.log.Error("unable to sweep shares", "err", err)
	}
}
