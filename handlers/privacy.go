package handlers

import (
	"net/http"
	"strconv"
	"strings"
	"time"

	"github.com/labstack/echo/v4"

	"foyer/journal"
	"foyer/privacy"
	"foyer/store"
	"foyer/views"
)

// noticeData is what the information notice and the register entry show:
// the settings with the practice's details filling what was left empty.
type noticeData struct {
	Controller, Address, Email, DPO string
	Hosting, EmailProvider          string
	SMSProvider, Extra              string
	RetentionYears, JournalMonths   int
	Version                         int
	Updated                         time.Time
	// SMS is true once the practice sends text messages (a share was made or an SMS provider is set).
	SMS bool
	// Generated is when the register entry was drawn up.
	Generated time.Time
}

// notice fills the notice's data from the settings, in lang.
func (h *Handler) notice(ps store.PrivacySettings, lang string) noticeData {
	p, _ := h.currentPractice()
	n := noticeData{Controller: ps.Controller, Address: ps.ControllerAddress, Email: ps.ContactEmail, DPO: ps.DPO,
		Hosting: ps.Hosting, EmailProvider: ps.EmailProvider, SMSProvider: ps.SMSProvider, Extra: ps.Extra[lang],
		RetentionYears: privacy.RetentionYears(ps), JournalMonths: privacy.JournalMonths(ps),
		Version: max(ps.NoticeVersion, 1), Updated: ps.NoticeUpdated, SMS: ps.SMSProvider != ""}
	if n.Controller == "" {
		n.Controller = p.Name
	}
	if n.Address == "" {
		n.Address = p.Address
	}
	if n.Email == "" {
		n.Email = p.ContactEmail
	}
	if !n.SMS && h.outbox != nil {
		n.SMS = h.outbox.Configured(store.ChannelSMS)
	}
	return n
}

// privacyNotice is /privacy: the practice's information notice, for anyone.
func (h *Handler) privacyNotice(c echo.Context) error {
	ps, err := h.store.PrivacySettings()
	if err != nil {
		return err
	}
	pg := h.page(c, "notice.title")
	pg.Portal = currentUser(c) == nil
	pg.DeliveryWarning = ""
	pg.Data = h.notice(ps, pg.Lang)
	return h.render(c, http.StatusOK, "privacy", pg)
}

// processingRegister is the printable entry for the practice's register of
// processing activities, drawn up from the same settings as the notice.
func (h *Handler) processingRegister(c echo.Context) error {
	ps, err := h.store.PrivacySettings()
	if err != nil {
		return err
	}
	pg := h.page(c, "register.title")
	n := h.notice(ps, pg.Lang)
	n.Generated = h.now()
	pg.Data = n
	return h.render(c, http.StatusOK, "register", pg)
}

type privacySettingsData struct {
	Due, Coming []dueRow
	Years       int
	AutoErase   bool
	// Kept are the receipts kept from erased clients.
	Kept []keptRow
	// IDs are the due clients' IDs, posted back by "Erase these clients".
	IDs string
	// Notice is what the notice cannot say yet.
	Notice noticeGaps
}

// noticeGaps are what the information notice cannot say yet.
type noticeGaps struct{ MissingHosting, MissingEmail bool }

type dueRow struct {
	privacy.Due
	Practitioner string
}

type keptRow struct {
	store.KeptReceipt
	Amount string
}

// privacySettingsPage is Settings → Personal data: retention, the journal's
// life, what the notice says, the clients due for erasure.
func (h *Handler) privacySettingsPage(c echo.Context) (*views.Page, error) {
	ps, err := h.store.PrivacySettings()
	if err != nil {
		return nil, err
	}
	pg := h.page(c, "privacy.title")
	n := h.notice(ps, pg.Lang)
	pg.Form = map[string]string{"retention_years": strconv.Itoa(n.RetentionYears), "journal_months": strconv.Itoa(n.JournalMonths),
		"controller": ps.Controller, "controller_address": ps.ControllerAddress, "contact_email": ps.ContactEmail, "dpo": ps.DPO,
		"hosting": ps.Hosting, "email_provider": ps.EmailProvider, "sms_provider": ps.SMSProvider,
		"extra_fr": ps.Extra["fr"], "extra_en": ps.Extra["en"]}
	if ps.AutoErase {
		pg.Form["auto_erase"] = "1"
	}
	d := &privacySettingsData{AutoErase: ps.AutoErase, Notice: noticeGaps{MissingHosting: n.Hosting == "", MissingEmail: n.Email == ""}}
	due, coming, years, err := h.privacy.DueList()
	if err != nil {
		return nil, err
	}
	d.Years = years
	names, _, err := h.staffDirectory()
	if err != nil {
		return nil, err
	}
	var ids []string
	for _, x := range due {
		d.Due = append(d.Due, dueRow{Due: x, Practitioner: names[x.PractitionerID]})
		ids = append(ids, strconv.FormatUint(x.ID, 10))
	}
	for _, x := range coming {
		d.Coming = append(d.Coming, dueRow{Due: x, Practitioner: names[x.PractitionerID]})
	}
	d.IDs = strings.Join(ids, ",")
	kept, err := h.store.KeptReceipts()
	if err != nil {
		return nil, err
	}
	for _, k := range kept {
		d.Kept = append(d.Kept, keptRow{KeptReceipt: k, Amount: pg.Money(k.Cents, k.Currency)})
	}
	pg.Data = d
	return pg, nil
}

func (h *Handler) privacySettings(c echo.Context) error {
	pg, err := h.privacySettingsPage(c)
	if err != nil {
		return err
	}
	return h.render(c, http.StatusOK, "settings_privacy", pg)
}

// savePrivacySettings saves retention, the journal's life and the notice;
// a change to what the notice says gives it a new version.
func (h *Handler) savePrivacySettings(c echo.Context) error {
	pg, err := h.privacySettingsPage(c)
	if err != nil {
		return err
	}
	f, err := newForm(c)
	if err != nil {
		return err
	}
	years := f.number("retention_years", privacy.MinRetentionYears, privacy.MaxRetentionYears, "privacy.years_invalid")
	months := f.number("journal_months", privacy.MinJournalMonths, privacy.MaxJournalMonths, "privacy.months_invalid")
	auto := f.checkbox("auto_erase")
	next := store.PrivacySettings{RetentionYears: years, JournalMonths: months, AutoErase: auto,
		Controller: f.text("controller", 200, false), ControllerAddress: f.multiline("controller_address", 300),
		ContactEmail: f.email("contact_email", false), DPO: f.text("dpo", 200, false), Hosting: f.text("hosting", 300, false),
		EmailProvider: f.text("email_provider", 200, false), SMSProvider: f.text("sms_provider", 200, false),
		Extra: map[string]string{}}
	for _, lang := range []string{"fr", "en"} {
		if v := f.multiline("extra_"+lang, 3000); v != "" {
			next.Extra[lang] = v
		}
	}
	if !f.ok() {
		return h.invalid(c, "settings_privacy", pg, f)
	}
	now := h.now().UTC()
	if _, err := h.store.UpdatePrivacySettings(func(ps *store.PrivacySettings) error {
		// Version 1 is the notice as it reads before any save.
		cur := max(ps.NoticeVersion, 1)
		next.NoticeVersion, next.NoticeUpdated = cur, ps.NoticeUpdated
		if privacy.NoticeChanged(*ps, next) {
			next.NoticeVersion, next.NoticeUpdated = cur+1, now
		}
		*ps = next
		return nil
	}); err != nil {
		return err
	}
	h.record(c, journal.Entry{Action: journal.SettingsChange, Detail: "personal_data"})
	h.shared.reset()
	h.setFlash(c, "flash.saved")
	return h.redirect(c, "/settings/privacy")
}

// eraseDue is the owner confirming the due list: the clients shown are
// erased, those still due; one that was not shown is not.
func (h *Handler) eraseDue(c echo.Context) error {
	var ids []uint64
	for _, s := range strings.Split(c.FormValue("ids"), ",") {
		if id, err := strconv.ParseUint(strings.TrimSpace(s), 10, 64); err == nil && id != 0 {
			ids = append(ids, id)
		}
	}
	if len(ids) == 0 {
		return h.redirect(c, "/settings/privacy")
	}
	u := currentUser(c)
	out, err := h.privacy.EraseDue(ids, privacy.Actor{StaffID: u.ID, Addr: c.RealIP()})
	if err != nil {
		return err
	}
	h.log.Info("clients erased under the retention rule", "count", len(out), "by", u.ID)
	h.setFlash(c, "flash.retention_erased")
	return h.redirect(c, "/settings/privacy#due")
}
