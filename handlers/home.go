package handlers

import (
	"net/http"
	"time"
	"unicode"
	"unicode/utf8"

	"github.com/labstack/echo/v4"

	"foyer/access"
	"foyer/locales"
	"foyer/store"
	"foyer/views"
)

// agendaDays is how far ahead the start page looks, today included.
const agendaDays = 8

// agendaLimit is how many sessions the start page lists at most.
const agendaLimit = 40

type homeData struct {
	Prospects store.ProspectCounts
	Agenda    []agendaDay
	More      bool
	// Everyone is true when the agenda shows every practitioner's sessions.
	Everyone bool
}

// agendaDay is one day of the start page's agenda.
type agendaDay struct {
	Label    string // Today · Wednesday, November 25, 2026 / Friday, November 27, 2026
	Sessions []agendaSession
}

type agendaSession struct {
	store.Appointment
	Client       string
	Practitioner string
	// Room is the Join button of the signed-in practitioner's own video sessions.
	Room *roomLink
}

// home is the staff start page: the sessions of today and the coming week
// (a practitioner's own, everyone's for owners and admins), then shortcuts.
func (h *Handler) home(c echo.Context) error {
	v := staffViewer(c)
	pg := h.page(c, "nav.home")
	d := homeData{Everyone: v.IsAdmin()}
	if d.Everyone {
		n, err := h.store.CountProspects()
		if err != nil {
			return err
		}
		d.Prospects = n
	}
	var err error
	if d.Agenda, d.More, err = h.agenda(pg, v); err != nil {
		return err
	}
	pg.Data = d
	return h.render(c, http.StatusOK, "home", pg)
}

// agenda is the sessions v may see from today on, by day; a session v is a
// party to has its room's Join button.
func (h *Handler) agenda(pg *views.Page, v access.Viewer) ([]agendaDay, bool, error) {
	l := pg.Localizer
	zone := h.zone()
	now := h.now().In(zone)
	today := time.Date(now.Year(), now.Month(), now.Day(), 0, 0, 0, 0, zone)
	list, more, err := h.access.Agenda(v, today, today.AddDate(0, 0, agendaDays), agendaLimit)
	if err != nil || len(list) == 0 {
		return nil, more, err
	}
	names, _, err := h.staffDirectory()
	if err != nil {
		return nil, false, err
	}
	var days []agendaDay
	var lastDay time.Time
	for _, e := range list {
		start := e.Start.In(zone)
		day := time.Date(start.Year(), start.Month(), start.Day(), 0, 0, 0, 0, zone)
		if len(days) == 0 || !day.Equal(lastDay) {
			days = append(days, agendaDay{Label: dayLabel(l, daysBetween(today, day), day)})
			lastDay = day
		}
		last := &days[len(days)-1]
		s := agendaSession{Appointment: e.Appointment, Client: e.Client.LastName + ", " + e.Client.FirstName, Practitioner: names[e.PractitionerID]}
		if access.MayJoinRoom(v, e.Appointment, e.Client) {
			s.Room = h.roomLinkFor(pg, e.Appointment, staffRoomURL(e.Appointment))
		}
		last.Sessions = append(last.Sessions, s)
	}
	return days, more, nil
}

// dayLabel names a day of the agenda: today and tomorrow by those words.
func dayLabel(l *locales.Localizer, offset int, day time.Time) string {
	switch offset {
	case 0:
		return l.T("home.today") + " · " + l.Day(day)
	case 1:
		return l.T("home.tomorrow") + " · " + l.Day(day)
	}
	s := l.Day(day)
	r, n := utf8.DecodeRuneInString(s)
	return string(unicode.ToUpper(r)) + s[n:] // a heading starts with a capital: Vendredi 27 novembre
}

// daysBetween counts calendar days from a to b, both at midnight in one zone
// (a day may last 23 or 25 hours when the clocks change).
func daysBetween(a, b time.Time) int {
	ya, ma, da := a.Date()
	yb, mb, db := b.Date()
	return int(time.Date(yb, mb, db, 0, 0, 0, 0, time.UTC).Sub(time.Date(ya, ma, da, 0, 0, 0, 0, time.UTC)).Hours() / 24)
}
