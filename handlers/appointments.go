package handlers

import (
	"errors"
	"fmt"
	"net/http"
	"strconv"
	"time"

	"github.com/labstack/echo/v4"

	"foyer/store"
	"foyer/views"
)

var apptKinds = []option{{Value: string(store.KindInPerson), Label: "appt.kind_in_person"}, {Value: string(store.KindVideo), Label: "appt.kind_video"}}

var durations = func() []option {
	var out []option
	for _, m := range []int{15, 30, 45, 50, 60, 75, 90, 120} {
		out = append(out, option{Value: strconv.Itoa(m), Text: strconv.Itoa(m)})
	}
	return out
}()

// apptView is an appointment ready to show: times in the practice zone, money in the page's language.
type apptView struct {
	store.Appointment
	When, Fee, Practitioner string
	Past                    bool
}

func (h *Handler) apptView(pg *views.Page, a store.Appointment, names map[uint64]string) apptView {
	return apptView{Appointment: a, When: pg.DateTime(a.Start), Fee: pg.Money(a.FeeCents, a.Currency),
		Practitioner: names[a.PractitionerID], Past: a.Start.Before(h.now())}
}

// bookAppointment books a session for the client; the date and time are in the practice time zone.
func (h *Handler) bookAppointment(c echo.Context) error {
	cl, err := h.loadClient(c, "id")
	if err != nil {
		return err
	}
	pg, err := h.clientPage(c, cl)
	if err != nil {
		return err
	}
	f, err := newForm(c)
	if err != nil {
		return err
	}
	_, day := f.date("date", true)
	clock := f.text("time", 5, true)
	var at time.Time
	if day != "" && clock != "" {
		at, err = time.ParseInLocation("2006-01-02 15:04", day+" "+clock, h.zone())
		if err != nil {
			f.fail("time", "form.time_invalid")
		}
	}
	minutes, _ := strconv.Atoi(f.choice("minutes", optionValues(durations)...))
	kind := f.choice("kind", optionValues(apptKinds)...)
	fee := f.money("fee", true)
	pid := cl.PractitionerID
	if isAdmin(currentUser(c)) {
		pid = f.id("practitioner", true)
		if st, err := h.store.Staff(pid); pid != 0 && (err != nil || !st.Active) {
			f.fail("practitioner", "form.choice_invalid")
		}
	}
	if !f.ok() {
		return h.invalid(c, "client", pg, f)
	}
	p, _ := h.currentPractice()
	a := &store.Appointment{ClientID: cl.ID, PractitionerID: pid, Start: at.UTC(), Minutes: minutes, Kind: store.AppointmentKind(kind),
		FeeCents: fee, Currency: p.Currency, CreatedAt: h.now().UTC()}
	if err := h.store.CreateAppointment(a); err != nil {
		return err
	}
	h.setFlash(c, "flash.appt_booked")
	return h.redirect(c, fmt.Sprintf("/clients/%d#appointments", cl.ID))
}

// loadAppointment loads an appointment whose client the user may see.
func (h *Handler) loadAppointment(c echo.Context) (store.Appointment, store.Client, error) {
	id, err := strconv.ParseUint(c.Param("id"), 10, 64)
	if err != nil {
		return store.Appointment{}, store.Client{}, echo.ErrNotFound
	}
	a, err := h.store.Appointment(id)
	if errors.Is(err, store.ErrNotFound) {
		return a, store.Client{}, echo.ErrNotFound
	} else if err != nil {
		return a, store.Client{}, err
	}
	cl, err := h.store.Client(a.ClientID)
	if err != nil {
		return a, cl, err
	}
	if u := currentUser(c); !isAdmin(u) && cl.PractitionerID != u.ID && a.PractitionerID != u.ID {
		return a, cl, echo.ErrNotFound
	}
	return a, cl, nil
}

// setAppointmentStatus marks an appointment attended, cancelled, booked again, paid or unpaid.
func (h *Handler) setAppointmentStatus(c echo.Context) error {
	a, cl, err := h.loadAppointment(c)
	if err != nil {
		return err
	}
	action := c.FormValue("action")
	now := h.now().UTC()
	_, err = h.store.UpdateAppointment(a.ID, func(a *store.Appointment) error {
		switch action {
		case "attended":
			a.Status = store.StatusAttended
		case "cancelled":
			a.Status = store.StatusCancelled
		case "booked":
			a.Status = store.StatusBooked
		case "paid":
			if !a.Paid {
				a.Paid, a.PaidAt = true, now
			}
		case "unpaid":
			// The receipt number stays with the appointment: numbers are never reused.
			a.Paid, a.PaidAt = false, time.Time{}
		default:
			return errBadAction
		}
		return nil
	})
	if errors.Is(err, errBadAction) {
		return echo.NewHTTPError(http.StatusBadRequest, "error.bad_request")
	} else if err != nil {
		return err
	}
	h.setFlash(c, "flash.saved")
	return h.redirect(c, fmt.Sprintf("/clients/%d#appointments", cl.ID))
}

var errBadAction = errors.New("handlers: unknown action")

func optionValues(opts []option) []string {
	out := make([]string, len(opts))
	for i, o := range opts {
		out[i] = o.Value
	}
	return out
}
