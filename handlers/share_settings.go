package handlers

import (
	"errors"
	"maps"
	"net/http"
	"strconv"
	"time"

	"github.com/labstack/echo/v4"

	"foyer/journal"
	"foyer/share"
	"foyer/store"
	"foyer/views"
)

// Settings → Secure share: the share emails' templates per language, with
// their merge fields and a preview, and the share lifetime, code validity and
// first-download email.

type shareSettingsData struct {
	Langs   []string
	Fields  []string
	Preview *sharePreview
}

func (h *Handler) shareSettingsPage(c echo.Context) *views.Page {
	p, _ := h.currentPractice()
	pg := h.page(c, "share.settings_title")
	lifetime, ttl := h.shareSettings()
	pg.Form["share_days"] = strconv.Itoa(int(lifetime / (24 * time.Hour)))
	pg.Form["code_minutes"] = strconv.Itoa(int(ttl / time.Minute))
	if !p.NoDownloadMail {
		pg.Form["download_mail"] = "1"
	}
	for _, lang := range []string{"en", "fr"} {
		pg.Form["template_"+lang] = h.mail.ShareTemplate(lang)
	}
	pg.Data = &shareSettingsData{Langs: []string{"en", "fr"}, Fields: share.Fields}
	return pg
}

func (h *Handler) shareSettingsForm(c echo.Context) error {
	return h.render(c, http.StatusOK, "share_settings", h.shareSettingsPage(c))
}

// maxTemplate is the longest share email template, in characters.
const maxTemplate = 10000

// readTemplates checks both templates: an unknown field or a missing link is refused.
func readTemplates(f *form) map[string]string {
	out := map[string]string{}
	for _, lang := range []string{"en", "fr"} {
		name := "template_" + lang
		t := f.multiline(name, maxTemplate)
		if _, bad := f.errs[name]; bad {
			continue
		}
		var unknown *share.UnknownFieldError
		switch err := share.CheckTemplate(t); {
		case errors.As(err, &unknown) && unknown.Field == "":
			f.fail(name, "share.template_bad_brackets")
		case errors.As(err, &unknown):
			f.fail(name, "share.template_unknown_field")
			f.vals[name+"_field"] = unknown.Field
		case errors.Is(err, share.ErrNoLink):
			f.fail(name, "share.template_no_link")
		case err != nil:
			f.failWith(name, "form.too_long", "Max", maxTemplate)
		}
		out[lang] = t
	}
	return out
}

func (h *Handler) saveShareSettings(c echo.Context) error {
	pg := h.shareSettingsPage(c)
	f, err := newForm(c)
	if err != nil {
		return err
	}
	// Whatever was typed (20.5, 1e3, a word) gets the field's own message, with the range.
	days, err := strconv.Atoi(f.text("share_days", 20, true))
	if err != nil || days < 1 || days > 90 {
		f.errs["share_days"] = "share.days_invalid"
	}
	minutes, err := strconv.Atoi(f.text("code_minutes", 20, true))
	if err != nil || minutes < 5 || minutes > 15 {
		f.errs["code_minutes"] = "share.minutes_invalid"
	}
	mail := f.checkbox("download_mail")
	templates := readTemplates(f)
	if !f.ok() {
		return h.invalid(c, "share_settings", pg, f)
	}
	p, _ := h.currentPractice()
	p.ShareDays, p.CodeMinutes, p.NoDownloadMail = days, minutes, !mail
	p.ShareTemplates = maps.Clone(p.ShareTemplates)
	if p.ShareTemplates == nil {
		p.ShareTemplates = map[string]string{}
	}
	for lang, t := range templates {
		// The default text stays the default (and follows its translations) until someone edits it.
		if t == h.catalog.Get(lang).T("share.template_default") {
			delete(p.ShareTemplates, lang)
		} else {
			p.ShareTemplates[lang] = t
		}
	}
	if err := h.store.SavePractice(p); err != nil {
		return err
	}
	h.record(c, journal.Entry{Action: journal.SettingsChange, Detail: "shares"})
	if err := h.reloadPractice(); err != nil {
		return err
	}
	h.setFlash(c, "flash.saved")
	return h.redirect(c, "/settings/shares")
}

// previewShareTemplate shows what the template of one language sends, with sample values.
func (h *Handler) previewShareTemplate(c echo.Context) error {
	pg := h.shareSettingsPage(c)
	f, err := newForm(c)
	if err != nil {
		return err
	}
	lang := f.choice("lang", "en", "fr")
	templates := readTemplates(f)
	pg.Form, pg.Errors, pg.ErrArgs = f.vals, f.errs, f.args
	if _, bad := f.errs["template_"+lang]; bad || lang == "" {
		if isHTMX(c) {
			return h.renderBlock(c, http.StatusUnprocessableEntity, "share_settings", "template_preview", pg)
		}
		return h.render(c, http.StatusUnprocessableEntity, "share_settings", pg)
	}
	lifetime, _ := h.shareSettings()
	subject, text := h.mail.SharePreview(lang, templates[lang], h.now().Add(lifetime))
	pg.Data.(*shareSettingsData).Preview = &sharePreview{Subject: subject, Text: text}
	if isHTMX(c) {
		return h.renderBlock(c, http.StatusOK, "share_settings", "template_preview", pg)
	}
	return h.render(c, http.StatusOK, "share_settings", pg)
}

// notMeForm asks before "This wasn't me" and says what it does: the link
// stops, the documents are deleted, the practice is told which access.
func (h *Handler) notMeForm(c echo.Context) error {
	sh, err := h.myShare(c)
	if err != nil {
		return err
	}
	pg := h.portalPage(c, "share.not_me_title")
	data := map[string]any{"Share": sh, "Line": ""}
	if i, ev, ok := h.reportedLine(sh, c.QueryParam("line")); ok {
		data["Line"], data["Index"] = pg.T("share.not_me_reported", "When", pg.DateTime(ev.At), "What", pg.T("share.event_"+ev.Type, "Detail", ev.Detail)), i
	}
	pg.Data = data
	return h.render(c, http.StatusOK, "portal_not_me", pg)
}

// notMe is "This wasn't me" on a line of the portal's document history: the
// share stops at once (its files purged) and its staff member is told.
func (h *Handler) notMe(c echo.Context) error {
	sh, err := h.myShare(c)
	if err != nil {
		return err
	}
	// The line reported: an access of the recipient's, by its place in the history.
	var line []store.ShareEvent
	if _, ev, ok := h.reportedLine(sh, c.FormValue("line")); ok {
		line = []store.ShareEvent{ev}
	}
	_, err = h.shares.Expire(sh.ID, store.ShareEvent{Type: share.EventNotMe, Recipient: 0, UserAgent: c.Request().UserAgent(), Detail: c.FormValue("line")})
	if err != nil && !errors.Is(err, share.ErrEnded) {
		return err
	}
	if err == nil {
		h.staffMail(sh, "not_me", "", line...)
	}
	h.setFlash(c, "flash.share_not_me")
	return h.redirect(c, "/portal/account#documents")
}

// myShare is the share of the route's ID if it went to the signed-in
// client themselves (access.MaySeeShare), else 404.
func (h *Handler) myShare(c echo.Context) (store.Share, error) {
	id, err := strconv.ParseUint(c.Param("id"), 10, 64)
	if err != nil {
		return store.Share{}, errNotFound
	}
	sh, err := h.shares.Get(id)
	if err != nil || h.access.Share(portalViewer(c), sh, opOf(c)) != nil {
		return store.Share{}, errNotFound
	}
	return sh, nil
}

// reportedLine is the history line a "This wasn't me" names by its place,
// if it is one of the recipient's accesses.
func (h *Handler) reportedLine(sh store.Share, raw string) (int, store.ShareEvent, bool) {
	i, err := strconv.Atoi(raw)
	if err != nil {
		return 0, store.ShareEvent{}, false
	}
	evs, err := h.shares.Events(sh.ID)
	if err != nil || i < 0 || i >= len(evs) || !reportable(evs[i]) {
		return 0, store.ShareEvent{}, false
	}
	return i, evs[i], true
}
