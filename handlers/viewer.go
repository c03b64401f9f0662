package handlers

import (
	"html/template"
	"net/http"
	"strconv"

	"github.com/labstack/echo/v4"

	"foyer/markdown"
	"foyer/store"
)

// viewerData is what the slide viewer shows: one slide at a time, with plain
// links to the previous and next ones (the viewer works without JavaScript;
// its script adds keys, swipes and the time-on-slide beacons).
type viewerData struct {
	Title    string
	N, Count int
	Slide    store.Slide
	HTML     template.HTML
	ImageURL string
	Prev     string
	Next     string
	First    string
	Last     string
	// Beacon is where the script reports time on this slide; "" in a staff preview.
	Beacon  string
	Viewing string
	// Preview is true when staff look at their own preso: nothing is recorded.
	Preview bool
	// Sign is the signing form of a signing slide, nil otherwise.
	Sign *signView
	Back string
}

type signView struct {
	Action   string
	Signed   bool
	Name     string
	SignedAt string
}

// viewerPage fills the viewer for slide n (1-based) of slides; base is the URL
// prefix of the slide pages and image the URL prefix of the slide images.
func (h *Handler) viewerPage(c echo.Context, title string, slides []store.Slide, n int, base, image string) (viewerData, bool) {
	if n < 1 || n > len(slides) {
		return viewerData{}, false
	}
	s := slides[n-1]
	d := viewerData{Title: title, N: n, Count: len(slides), Slide: s, HTML: markdown.HTML(s.Body)}
	link := func(i int) string { return base + strconv.Itoa(i) }
	if n > 1 {
		d.Prev, d.First = link(n-1), link(1)
	}
	if n < len(slides) {
		d.Next, d.Last = link(n+1), link(len(slides))
	}
	if s.Image != "" {
		d.ImageURL = image + strconv.FormatUint(s.ID, 10)
	}
	return d, true
}

// previewPreso shows staff their preso as a client will see it (included slides only).
func (h *Handler) previewPreso(c echo.Context) error {
	p, err := h.loadPreso(c)
	if err != nil {
		return err
	}
	n, _ := strconv.Atoi(c.QueryParam("n"))
	if n == 0 {
		n = 1
	}
	id := strconv.FormatUint(p.ID, 10)
	d, ok := h.viewerPage(c, p.Title, p.Included(), n, "/presos/"+id+"/preview?n=", "/presos/"+id+"/slides/")
	if !ok {
		return errNotFound
	}
	if d.ImageURL != "" {
		d.ImageURL += "/image"
	}
	d.Preview, d.Back = true, "/presos/"+id
	pg := h.page(c, "viewer.title")
	pg.Data = d
	return h.render(c, http.StatusOK, "viewer", pg)
}
