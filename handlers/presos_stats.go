package handlers

import (
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"time"

	"github.com/labstack/echo/v4"

	"foyer/certificate"
	"foyer/locales"
	"foyer/mail"
	"foyer/preso"
	"foyer/store"
)

// What a share's viewers saw: per viewer, which slides and how long on each,
// as bars drawn by the server (SVG, no chart script), and the raw events as
// CSV. Once a viewing ends (no beacon for a few minutes), the preso's owner gets
// an email saying who viewed what, in their own language (ReportViewing).

type slideTotal struct {
	preso.SlideTotal
	// Time is Millis for people ("1 h 05 min").
	Time string
}

type viewerStats struct {
	store.Viewing
	Who     string
	Started string
	// Device is the browser and system, as far as they are known.
	Device string
	Total  string
	// Recorded: some time on a slide was recorded (else no chart, a line says so).
	Recorded bool
	Slides   []slideTotal
	// Height is the chart's height in its units, for the SVG viewBox.
	Height int
}

type statsData struct {
	Preso   store.Preso
	Share   store.Share
	Created string
	Viewers []viewerStats
	// Signatures made through this link, with their certificates.
	Signatures []signatureRow
}

// millis is a duration in milliseconds for Localizer.Duration.
func millis(ms int64) time.Duration { return time.Duration(ms) * time.Millisecond }

func (h *Handler) viewerName(l *locales.Localizer, v store.Viewing) string {
	switch {
	case v.Name != "" && v.Email != "" && v.ContactID == 0:
		return v.Name + " <" + v.Email + ">"
	case v.Name != "":
		return v.Name
	}
	return l.T("stats.anonymous")
}

// shareStats is the "Numbers" page of one share of a preso.
func (h *Handler) shareStats(c echo.Context) error {
	p, sh, err := h.presoShare(c)
	if err != nil {
		return err
	}
	pg := h.page(c, "stats.title")
	d := statsData{Preso: p, Share: sh, Created: pg.DateTime(sh.CreatedAt)}
	numbers, err := h.presos.Numbers(sh)
	if err != nil {
		return err
	}
	l := h.loc(c)
	for _, n := range numbers {
		who := h.viewerName(l, n.Viewing)
		if preso.Declared(n.Viewing) {
			who = l.T("stats.declared", "Name", who)
		}
		vs := viewerStats{Viewing: n.Viewing, Who: who, Started: pg.DateTime(n.StartedAt), Device: preso.BrowserLine(n.Browser),
			Total: l.Duration(millis(n.Millis)), Recorded: n.Millis > 0, Height: 12 * len(n.Slides)}
		for _, t := range n.Slides {
			vs.Slides = append(vs.Slides, slideTotal{SlideTotal: t, Time: l.Duration(millis(t.Millis))})
		}
		d.Viewers = append(d.Viewers, vs)
	}
	sigs, err := h.presos.LinkSignatures(sh)
	if err != nil {
		return err
	}
	for _, s := range sigs {
		d.Signatures = append(d.Signatures, signatureRow{Signature: s, When: pg.DateTime(s.At), Identity: certificate.Identity(l, s)})
	}
	pg.Data = d
	return h.render(c, http.StatusOK, "preso_stats", pg)
}

// shareEventsCSV exports every beacon of a share, one line each.
func (h *Handler) shareEventsCSV(c echo.Context) error {
	p, sh, err := h.presoShare(c)
	if err != nil {
		return err
	}
	lines, err := h.presos.BeaconLines(sh)
	if err != nil {
		return err
	}
	l := h.loc(c)
	hd := c.Response().Header()
	hd.Set("Content-Type", "text/csv; charset=utf-8")
	hd.Set("Content-Disposition", fmt.Sprintf(`attachment; filename="preso-%d-share-%d.csv"`, p.ID, sh.ID))
	hd.Set("Cache-Control", "no-store")
	c.Response().WriteHeader(http.StatusOK)
	return preso.WriteCSV(c.Response(), lines, h.zone(), func(v store.Viewing) string { return h.viewerName(l, v) })
}

// ReportViewing queues the email that tells a preso's owner who viewed
// which slides for how long in one ended viewing (the jobs call it).
func (h *Handler) ReportViewing(v store.Viewing) error {
	p, err := h.store.Preso(v.PresoID)
	if errors.Is(err, store.ErrNotFound) {
		return nil
	} else if err != nil {
		return err
	}
	owner, err := h.store.Staff(p.OwnerID)
	if errors.Is(err, store.ErrNotFound) || (err == nil && !owner.Active) {
		return nil
	} else if err != nil {
		return err
	}
	snap, err := h.store.Snapshot(v.SnapshotID)
	if err != nil && !errors.Is(err, store.ErrNotFound) {
		return err
	}
	times, err := h.store.SlideTimes(v.ID)
	if err != nil {
		return err
	}
	var lines []mail.ViewedSlide
	for _, s := range preso.Totals(snap.Slides, times) {
		if s.Millis > 0 {
			lines = append(lines, mail.ViewedSlide{Title: s.Title, Millis: s.Millis})
		}
	}
	raw, err := json.Marshal(lines)
	if err != nil {
		return err
	}
	l := h.catalog.Get(owner.Lang)
	args := map[string]string{"Viewer": h.viewerName(l, v), "Title": p.Title, "Start": mail.TimeArg(v.StartedAt), "Slides": string(raw),
		"Path": urlFor(routePresoShareStats, p.ID, v.ShareID)}
	if preso.Declared(v) {
		args["Declared"] = "1"
	}
	return h.queue(&store.Message{Channel: store.ChannelEmail, To: owner.Email, Lang: l.Lang, Kind: mail.PresoViewed, Args: args,
		ClientID: v.ContactID})
}
