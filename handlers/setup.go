package handlers

import (
	"errors"
	"net/http"

	"github.com/labstack/echo/v4"

	"foyer/auth"
	"foyer/store"
)

func (h *Handler) setupForm(c echo.Context) error {
	pg := h.page(c, "setup.title")
	pg.Form["default_lang"] = pg.Lang
	return h.render(c, http.StatusOK, "setup", pg)
}

// setup creates the practice and its owner, then signs the owner in.
func (h *Handler) setup(c echo.Context) error {
	pg := h.page(c, "setup.title")
	f, err := newForm(c)
	if err != nil {
		return err
	}
	practiceName := f.text("practice_name", 100, true)
	lang := f.choice("default_lang", "en", "fr")
	name := f.name("name", 100, true)
	email := f.email("email", true)
	password := f.newPassword("password")
	if !f.ok() {
		return h.invalid(c, "setup", pg, f)
	}
	p := store.DefaultPractice()
	p.Name, p.DefaultLang = practiceName, lang
	// The owner keeps the language they set up in, which may differ from the practice default.
	owner := &store.Staff{Name: name, Email: email, Lang: pg.Lang, PasswordHash: auth.HashPassword(password), CreatedAt: h.now().UTC()}
	if err := h.store.Setup(p, owner); errors.Is(err, store.ErrAlreadySetUp) {
		return errNotFound
	} else if err != nil {
		return err
	}
	if err := h.reloadPractice(); err != nil {
		return err
	}
	if err := h.startSession(c, sessUserID, owner.ID); err != nil {
		return err
	}
	h.setFlash(c, "flash.welcome")
	return h.redirect(c, "/")
}
