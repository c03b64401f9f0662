package handlers

import (
	"errors"
	"fmt"
	"net/http"
	"strconv"
	"strings"
	"time"

	"github.com/labstack/echo/v4"

	"foyer/store"
	"foyer/video"
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
	// Room is the video room's Join button, for whoever is a party to the session.
	Room *roomLink
	// VideoLog says who joined and left the video room, and when.
	VideoLog []string
}

func (h *Handler) apptView(pg *views.Page, a store.Appointment, names map[uint64]string) apptView {
	return apptView{Appointment: a, When: pg.DateTime(a.Start), Fee: pg.Money(a.FeeCents, a.Currency),
		Practitioner: names[a.PractitionerID], Past: a.Start.Before(h.now())}
}

// How far from today an appointment may be booked or noted.
const (
	apptYearsBack  = 5
	apptYearsAhead = 2
)

// apptInput is what the booking form holds.
type apptInput struct {
	Start          time.Time
	Minutes        int
	Kind           store.AppointmentKind
	FeeCents       int64
	PractitionerID uint64
}

// readAppointment validates the booking form; the date and time are in the practice time zone.
// current is the appointment being edited (zero when booking): a staff
// member who cannot choose the practitioner keeps the one it has.
func (h *Handler) readAppointment(c echo.Context, f *form, cl store.Client, current store.Appointment) apptInput {
	var in apptInput
	_, day := f.date("date", true)
	// A session is booked ahead or noted afterwards, within reason: a year
	// typed wrong (1900, 2206) is a mistake, not an appointment.
	today := h.now().In(h.zone())
	from, to := today.AddDate(-apptYearsBack, 0, 0), today.AddDate(apptYearsAhead, 0, 0)
	if day != "" && (day < from.Format("2006-01-02") || day > to.Format("2006-01-02")) {
		l := h.loc(c)
		f.failWith("date", "appt.date_range", "From", l.Date(from), "To", l.Date(to))
		day = ""
	}
	clock := f.text("time", 5, true)
	if day != "" && clock != "" {
		at, err := time.ParseInLocation("2006-01-02 15:04", day+" "+clock, h.zone())
		if err != nil {
			f.fail("time", "form.time_invalid")
		}
		in.Start = at.UTC()
	}
	in.Minutes, _ = strconv.Atoi(f.choice("minutes", optionValues(durations)...))
	in.Kind = store.AppointmentKind(f.choice("kind", optionValues(apptKinds)...))
	in.FeeCents = f.money("fee", true)
	in.PractitionerID = cl.PractitionerID
	if current.PractitionerID != 0 {
		in.PractitionerID = current.PractitionerID
	}
	if staffViewer(c).IsAdmin() {
		in.PractitionerID = h.readPractitioner(f)
	}
	return in
}

// bookAppointment books a session for the client.
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
	in := h.readAppointment(c, f, cl, store.Appointment{})
	if !f.ok() {
		return h.invalid(c, "client", pg, f)
	}
	p, _ := h.currentPractice()
	a := &store.Appointment{ClientID: cl.ID, PractitionerID: in.PractitionerID, Start: in.Start, Minutes: in.Minutes, Kind: in.Kind,
		FeeCents: in.FeeCents, Currency: p.Currency, CreatedAt: h.now().UTC()}
	if err := h.store.CreateAppointment(a); err != nil {
		return err
	}
	h.setFlash(c, "flash.appt_booked")
	return h.redirect(c, urlFor(routeClient, cl.ID)+"#appointments")
}

type apptFormData struct {
	Client        store.Client
	Appointment   store.Appointment
	Practitioners []option
	Kinds         []option
	Durations     []option
}

// apptFormPage is the page that changes an appointment's date, time, length, kind, practitioner or fee.
func (h *Handler) apptFormPage(c echo.Context, a store.Appointment, cl store.Client) (*views.Page, error) {
	pg := h.page(c, "appt.edit_title")
	d := apptFormData{Client: cl, Appointment: a, Kinds: apptKinds, Durations: durations}
	var err error
	if _, d.Practitioners, err = h.staffDirectory(); err != nil {
		return nil, err
	}
	pg.Data = d
	local := a.Start.In(h.zone())
	fee := fmt.Sprintf("%d.%02d", a.FeeCents/100, a.FeeCents%100)
	if pg.Lang == "fr" {
		fee = strings.Replace(fee, ".", ",", 1)
	}
	pg.Form = map[string]string{"date": local.Format("2006-01-02"), "time": local.Format("15:04"), "minutes": strconv.Itoa(a.Minutes),
		"kind": string(a.Kind), "practitioner": strconv.FormatUint(a.PractitionerID, 10), "fee": fee}
	return pg, nil
}

func (h *Handler) editAppointmentForm(c echo.Context) error {
	a, cl, err := h.loadAppointment(c)
	if err != nil {
		return err
	}
	pg, err := h.apptFormPage(c, a, cl)
	if err != nil {
		return err
	}
	return h.render(c, http.StatusOK, "appointment_form", pg)
}

// updateAppointment reschedules or corrects an appointment; a new time means a new reminder.
func (h *Handler) updateAppointment(c echo.Context) error {
	a, cl, err := h.loadAppointment(c)
	if err != nil {
		return err
	}
	pg, err := h.apptFormPage(c, a, cl)
	if err != nil {
		return err
	}
	f, err := newForm(c)
	if err != nil {
		return err
	}
	in := h.readAppointment(c, f, cl, a)
	if !f.ok() {
		return h.invalid(c, "appointment_form", pg, f)
	}
	if _, err := h.store.UpdateAppointment(a.ID, func(x *store.Appointment) error {
		if !x.Start.Equal(in.Start) {
			x.ReminderSent = false
		}
		x.Start, x.Minutes, x.Kind, x.FeeCents, x.PractitionerID = in.Start, in.Minutes, in.Kind, in.FeeCents, in.PractitionerID
		return nil
	}); err != nil {
		return err
	}
	if !a.Start.Equal(in.Start) || in.Kind != store.KindVideo || in.PractitionerID != a.PractitionerID {
		// The old room is gone: whoever is in it is told the session moved.
		h.rooms.Close(a.ID, video.ReasonMoved)
	}
	h.setFlash(c, "flash.saved")
	return h.redirect(c, urlFor(routeClient, cl.ID)+"#appointments")
}

// loadAppointment loads the route's appointment and its client for the
// signed-in staff member (access.Policy.Appointment), or 404.
func (h *Handler) loadAppointment(c echo.Context) (store.Appointment, store.Client, error) {
	id, err := strconv.ParseUint(c.Param("id"), 10, 64)
	if err != nil {
		return store.Appointment{}, store.Client{}, errNotFound
	}
	a, cl, err := h.access.Appointment(staffViewer(c), id, opOf(c))
	return a, cl, accessErr(err)
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
			// A cancelled session is put back first: a receipt for one would be a mistake.
			if a.Status == store.StatusCancelled {
				return errCancelledPaid
			}
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
	if errors.Is(err, errCancelledPaid) {
		return httpError(http.StatusConflict, "error.appt_cancelled_paid")
	}
	if errors.Is(err, errBadAction) {
		return errBadRequest
	} else if err != nil {
		return err
	}
	if action == "cancelled" {
		h.rooms.Close(a.ID, video.ReasonCancelled)
	}
	h.setFlash(c, "flash.saved")
	return h.redirect(c, urlFor(routeClient, cl.ID)+"#appointments")
}

var errBadAction = errors.New("handlers: unknown action")

var errCancelledPaid = errors.New("handlers: a cancelled appointment cannot be paid")

func optionValues(opts []option) []string {
	out := make([]string, len(opts))
	for i, o := range opts {
		out[i] = o.Value
	}
	return out
}

// apptConfirmData is what the cancel and delete confirmations show.
type apptConfirmData struct {
	Appt   apptView
	Client store.Client
	// Action is "cancel" or "delete".
	Action string
}

// confirmAppointment asks before cancelling or deleting an appointment.
func (h *Handler) confirmAppointment(action string) echo.HandlerFunc {
	return func(c echo.Context) error {
		a, cl, err := h.loadAppointment(c)
		if err != nil {
			return err
		}
		if action == "delete" && a.ReceiptNo != 0 {
			return httpError(http.StatusConflict, "error.appt_has_receipt")
		}
		names, _, err := h.staffDirectory()
		if err != nil {
			return err
		}
		pg := h.page(c, "appt."+action+"_title")
		pg.Data = apptConfirmData{Appt: h.apptView(pg, a, names), Client: cl, Action: action}
		return h.render(c, http.StatusOK, "appointment_confirm", pg)
	}
}

// deleteAppointment removes an appointment made by mistake; one with a receipt stays.
func (h *Handler) deleteAppointment(c echo.Context) error {
	a, cl, err := h.loadAppointment(c)
	if err != nil {
		return err
	}
	if err := h.store.DeleteAppointment(a.ID); errors.Is(err, store.ErrHasReceipt) {
		return httpError(http.StatusConflict, "error.appt_has_receipt")
	} else if err != nil {
		return err
	}
	h.rooms.Close(a.ID, video.ReasonCancelled)
	h.setFlash(c, "flash.appt_deleted")
	return h.redirect(c, urlFor(routeClient, cl.ID)+"#appointments")
}
