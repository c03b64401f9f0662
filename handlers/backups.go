package handlers

import (
	"errors"
	"net/http"
	"path/filepath"
	"strconv"

	"github.com/labstack/echo/v4"

	"foyer/access"
	"foyer/backup"
	"foyer/journal"
	"foyer/store"
	"foyer/views"
)

// Settings → Off-site backups: where the copies go, how the last ones went,
// how many are kept, Back up now; and Settings → Secret key: the key once
// more, after the owner's password, on a recovery sheet to print.

type backupsData struct {
	On     bool
	Target string
	Every  string
	Status store.BackupStatus
	Size   string
	// Failing is true from the second failure in a row.
	Failing bool
	Key     keyPlace
	DataDir string
}

// keyPlace says where the secret key lives, as the pages name it.
type keyPlace struct {
	ID string
	// File is secret.key's path; empty when the key is FOYER_SECRET_KEY.
	File string
}

func (h *Handler) keyPlace() keyPlace {
	return keyPlace{ID: h.store.KeyID(), File: h.store.KeyFile()}
}

func (h *Handler) backupsPage(c echo.Context) (*views.Page, error) {
	pg := h.page(c, "backups.title")
	d := &backupsData{Key: h.keyPlace(), DataDir: filepath.Dir(h.store.Path())}
	if b := h.cfg.Backups; b != nil {
		st, err := h.store.BackupStatus()
		if err != nil {
			return nil, err
		}
		d.On, d.Target, d.Every, d.Status, d.Failing = true, b.Target().String(), pg.Duration(b.Every()), st, backup.Failing(st)
		if st.LastSize > 0 {
			d.Size = humanSize(pg.Localizer, st.LastSize)
		}
	}
	p, _ := h.currentPractice()
	keep := backup.RetentionOf(p)
	pg.Form["keep_hourly"], pg.Form["keep_daily"], pg.Form["keep_monthly"] = strconv.Itoa(keep.Hourly), strconv.Itoa(keep.Daily), strconv.Itoa(keep.Monthly)
	pg.Data = d
	return pg, nil
}

// saveBackupKeep saves how many copies are kept.
func (h *Handler) saveBackupKeep(c echo.Context) error {
	pg, err := h.backupsPage(c)
	if err != nil {
		return err
	}
	f, err := newForm(c)
	if err != nil {
		return err
	}
	var keep store.Retention
	for _, field := range []struct {
		name string
		n    *int
	}{{"keep_hourly", &keep.Hourly}, {"keep_daily", &keep.Daily}, {"keep_monthly", &keep.Monthly}} {
		n, err := strconv.Atoi(f.text(field.name, 10, true))
		if err != nil || n < 0 || n > backup.MaxKeep {
			f.fail(field.name, "backups.keep_invalid")
		}
		*field.n = n
	}
	if f.ok() && errors.Is(backup.CheckRetention(keep), backup.ErrKeepNone) {
		f.fail("keep_hourly", "backups.keep_none")
	}
	if !f.ok() {
		return h.invalid(c, "backups", pg, f)
	}
	p, _ := h.currentPractice()
	p.BackupKeep = &keep
	if err := h.store.SavePractice(p); err != nil {
		return err
	}
	if err := h.reloadPractice(); err != nil {
		return err
	}
	h.setFlash(c, "flash.saved")
	return h.redirect(c, "/settings/backups")
}

// backupNow asks for a copy at once; the page then shows how it went.
func (h *Handler) backupNow(c echo.Context) error {
	if h.cfg.Backups == nil {
		return errNotFound
	}
	h.cfg.Backups.Trigger()
	h.log.Info("off-site backup asked for", "by", currentUser(c).ID)
	h.setFlash(c, "flash.backup_started")
	return h.redirect(c, "/settings/backups")
}

// backupWarning is the banner of staff pages while backups keep failing:
// its message ID and since when.
func (h *Handler) backupWarning(user *store.Staff) (string, store.BackupStatus) {
	if user == nil || h.cfg.Backups == nil {
		return "", store.BackupStatus{}
	}
	st, err := h.store.BackupStatus()
	if err != nil || !backup.Failing(st) {
		return "", st
	}
	if access.IsOwner(user.Role) {
		return "backups.banner_owner", st
	}
	return "backups.banner_staff", st
}

type secretKeyData struct {
	Key  keyPlace
	Text string // the key itself, on the sheet only
	When string
}

func (h *Handler) secretKeyPage(c echo.Context) (*views.Page, error) {
	pg := h.page(c, "keysheet.title")
	pg.Username = currentUser(c).Email
	pg.Data = &secretKeyData{Key: h.keyPlace()}
	return pg, nil
}

// showSecretKey shows the secret key on the recovery sheet, once the owner
// has typed their password: a session left open on a desk does not give it.
func (h *Handler) showSecretKey(c echo.Context) error {
	user := currentUser(c)
	pg, err := h.secretKeyPage(c)
	if err != nil {
		return err
	}
	f, err := newForm(c)
	if err != nil {
		return err
	}
	password := f.password("password")
	if !f.ok() {
		return h.invalid(c, "secret_key", pg, f)
	}
	// Whoever holds the key and a backup reads every record: each showing,
	// and each try at it, goes in the journal.
	if ok, err := h.passwordAgain(c, user, password, "secret_key", pg, f, "password", func(limited bool) {
		e := journal.Entry{Action: journal.SecretKeyFailed}
		if limited {
			e.Detail = "limited"
		}
		h.record(c, e)
	}); !ok {
		return err
	}
	h.log.Warn("the secret key was shown", "by", user.ID, "ip", c.RealIP())
	h.record(c, journal.Entry{Action: journal.SecretKeyShown, Detail: h.store.KeyID()})
	pg = h.page(c, "keysheet.sheet_title")
	pg.Data = &secretKeyData{Key: h.keyPlace(), Text: store.FormatSecretKey(h.store.SecretKey()), When: pg.DateTime(h.now())}
	return h.render(c, http.StatusOK, "secret_key_sheet", pg)
}
