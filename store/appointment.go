package store

import (
	"bytes"
	"encoding/binary"
	"errors"
	"fmt"
	"time"

	bolt "go.etcd.io/bbolt"
)

// AppointmentKind is how a session takes place.
type AppointmentKind string

// The appointment kinds.
const (
	KindVideo    AppointmentKind = "video"
	KindInPerson AppointmentKind = "in_person"
)

// AppointmentStatus is where an appointment stands.
type AppointmentStatus string

// The appointment statuses.
const (
	StatusBooked    AppointmentStatus = "booked"
	StatusAttended  AppointmentStatus = "attended"
	StatusCancelled AppointmentStatus = "cancelled"
)

// Appointment is one session with a client.
type Appointment struct {
	ID             uint64            `json:"id"`
	ClientID       uint64            `json:"client_id"`
	PractitionerID uint64            `json:"practitioner_id"`
	Start          time.Time         `json:"start"`
	Minutes        int               `json:"minutes"`
	Kind           AppointmentKind   `json:"kind"`
	FeeCents       int64             `json:"fee_cents"`
	Currency       string            `json:"currency"`
	Status         AppointmentStatus `json:"status"`
	Paid           bool              `json:"paid"`
	PaidAt         time.Time         `json:"paid_at,omitzero"`
	// ReceiptNo is given when the appointment is marked paid; receipts are numbered in order.
	ReceiptNo    uint64    `json:"receipt_no,omitempty"`
	ReminderSent bool      `json:"reminder_sent,omitempty"`
	CreatedAt    time.Time `json:"created_at"`
	// Video records when each party joined and left the video room, oldest
	// first; nothing else of the session (no SDP, no network address) is kept.
	Video []VideoEvent `json:"video,omitempty"`
}

// VideoParty is who took part in a video session.
type VideoParty string

// The parties of a video session.
const (
	PartyPractitioner VideoParty = "practitioner"
	PartyClient       VideoParty = "client"
)

// VideoEvent is one party joining or leaving a video room, or the session's
// connection dropping or coming back (Event).
type VideoEvent struct {
	At     time.Time  `json:"at"`
	Party  VideoParty `json:"party"`
	Joined bool       `json:"joined"` // false: left
	// Event is VideoDrop or VideoRecovered for a drop or a recovery of the
	// connection between the two browsers (Party saw it first); empty for a
	// join or a leave.
	Event string `json:"event,omitempty"`
}

// The events of a session's connection, for the practitioner's record.
const (
	VideoDrop      = "drop"
	VideoRecovered = "recovered"
)

// maxVideoEvents bounds the log of one appointment: a flaky network can
// reconnect many times, and the record must not grow without end.
const maxVideoEvents = 100

// RecordVideo appends a join or leave to the appointment's video log, keeping
// the first events when the log is full (the last leave replaces the last entry).
func (s *Store) RecordVideo(id uint64, e VideoEvent) error {
	_, err := s.UpdateAppointment(id, func(a *Appointment) error {
		if len(a.Video) >= maxVideoEvents {
			a.Video[len(a.Video)-1] = e
			return nil
		}
		a.Video = append(a.Video, e)
		return nil
	})
	return err
}

func byClientKey(a Appointment) []byte {
	k := make([]byte, 24)
	binary.BigEndian.PutUint64(k, a.ClientID)
	binary.BigEndian.PutUint64(k[8:], uint64(a.Start.Unix()))
	binary.BigEndian.PutUint64(k[16:], a.ID)
	return k
}

func reminderKey(a Appointment) []byte {
	k := make([]byte, 16)
	binary.BigEndian.PutUint64(k, uint64(a.Start.Unix()))
	binary.BigEndian.PutUint64(k[8:], a.ID)
	return k
}

// needsReminder reports whether the reminder index should hold the appointment.
// byStartKey orders appointments by start time; its value says whose and
// whether cancelled, so listings filter without decoding records.
func byStartKey(a Appointment) []byte {
	k := make([]byte, 16)
	binary.BigEndian.PutUint64(k, uint64(a.Start.Unix()))
	binary.BigEndian.PutUint64(k[8:], a.ID)
	return k
}

func byStartValue(a Appointment) []byte {
	return append(itob(a.PractitionerID), a.Status...)
}

func needsReminder(a Appointment) bool { return a.Status == StatusBooked && !a.ReminderSent }

func putAppointment(tx *bolt.Tx, old *Appointment, a Appointment) error {
	byClient, due, byStart := tx.Bucket(bucketApptsByClient), tx.Bucket(bucketApptsDue), tx.Bucket(bucketApptsByStart)
	if old != nil {
		if err := byClient.Delete(byClientKey(*old)); err != nil {
			return err
		}
		if err := due.Delete(reminderKey(*old)); err != nil {
			return err
		}
		if err := byStart.Delete(byStartKey(*old)); err != nil {
			return err
		}
	}
	if err := byClient.Put(byClientKey(a), nil); err != nil {
		return err
	}
	if err := byStart.Put(byStartKey(a), byStartValue(a)); err != nil {
		return err
	}
	if needsReminder(a) {
		if err := due.Put(reminderKey(a), nil); err != nil {
			return err
		}
	}
	return putJSON(tx, bucketAppointments, itob(a.ID), a)
}

// CreateAppointment books an appointment for an existing client.
func (s *Store) CreateAppointment(a *Appointment) error {
	return s.db.Update(func(tx *bolt.Tx) error { return insertAppointment(tx, a) })
}

func insertAppointment(tx *bolt.Tx, a *Appointment) error {
	if tx.Bucket(bucketClients).Get(itob(a.ClientID)) == nil {
		return ErrNotFound
	}
	id, err := tx.Bucket(bucketAppointments).NextSequence()
	if err != nil {
		return fmt.Errorf("store: unable to allocate appointment ID: %w", err)
	}
	a.ID = id
	if a.Status == "" {
		a.Status = StatusBooked
	}
	if a.CreatedAt.IsZero() {
		a.CreatedAt = time.Now().UTC()
	}
	return putAppointment(tx, nil, *a)
}

// Appointment loads an appointment.
func (s *Store) Appointment(id uint64) (Appointment, error) {
	var a Appointment
	err := s.db.View(func(tx *bolt.Tx) error { return getJSON(tx, bucketAppointments, itob(id), &a) })
	return a, err
}

// ClientAppointment loads an appointment only if it belongs to clientID: the
// query a portal page uses, so a client can never read another's appointment.
func (s *Store) ClientAppointment(clientID, id uint64) (Appointment, error) {
	a, err := s.Appointment(id)
	if err == nil && a.ClientID != clientID {
		return Appointment{}, ErrNotFound
	}
	return a, err
}

// UpdateAppointment applies fn and keeps the indexes in step. Marking an
// appointment paid gives it the next receipt number.
func (s *Store) UpdateAppointment(id uint64, fn func(*Appointment) error) (Appointment, error) {
	var a Appointment
	err := s.db.Update(func(tx *bolt.Tx) error {
		if err := getJSON(tx, bucketAppointments, itob(id), &a); err != nil {
			return err
		}
		old := a
		if err := fn(&a); err != nil {
			return err
		}
		a.ID, a.ClientID = old.ID, old.ClientID
		if a.Paid && a.ReceiptNo == 0 {
			meta := tx.Bucket(bucketMeta)
			n := uint64(1)
			if v := meta.Get(keyReceiptSeq); v != nil {
				n = btoi(v) + 1
			}
			if err := meta.Put(keyReceiptSeq, itob(n)); err != nil {
				return err
			}
			a.ReceiptNo = n
		}
		return putAppointment(tx, &old, a)
	})
	return a, err
}

// QueueReminder marks the reminder of appointment id as sent and queues m,
// its email (nil when the client has no address), in one transaction: a
// crash can neither send it twice nor lose it. seen is the start time the
// caller wrote the reminder for; when the appointment has changed since
// (rescheduled, cancelled, already reminded) nothing is written. It reports
// whether an email was queued.
func (s *Store) QueueReminder(id uint64, seen time.Time, m *Message) (queued bool, err error) {
	err = s.db.Update(func(tx *bolt.Tx) error {
		var a Appointment
		if err := getJSON(tx, bucketAppointments, itob(id), &a); err != nil {
			return err
		}
		if !needsReminder(a) || !a.Start.Equal(seen) {
			return nil
		}
		if m != nil {
			if err := s.enqueue(tx, m); err != nil {
				return err
			}
		}
		old := a
		a.ReminderSent = true
		queued = true
		return putAppointment(tx, &old, a)
	})
	return queued && m != nil, err
}

// AgendaEntry is an appointment with its client, as an agenda shows it.
type AgendaEntry struct {
	Appointment
	Client Client
}

// Agenda lists the appointments starting in [from, to), soonest first, at
// most limit of them, leaving out cancelled ones; practitioner 0 means
// everyone's. It reads their clients in the same transaction, and reports
// whether more were left out by the limit.
func (s *Store) Agenda(from, to time.Time, practitioner uint64, limit int) (list []AgendaEntry, more bool, err error) {
	err = s.db.View(func(tx *bolt.Tx) error {
		c := tx.Bucket(bucketApptsByStart).Cursor()
		end := uint64(to.Unix())
		for k, v := c.Seek(itob(uint64(max(from.Unix(), 0)))); k != nil && binary.BigEndian.Uint64(k) < end; k, v = c.Next() {
			if len(v) < 8 || string(v[8:]) == string(StatusCancelled) || (practitioner != 0 && btoi(v[:8]) != practitioner) {
				continue
			}
			if len(list) == limit {
				more = true
				return nil
			}
			var e AgendaEntry
			if err := getJSON(tx, bucketAppointments, k[8:], &e.Appointment); err != nil {
				return err
			}
			if err := getJSON(tx, bucketClients, itob(e.ClientID), &e.Client); err != nil {
				return err
			}
			list = append(list, e)
		}
		return nil
	})
	return list, more, err
}

// ClientAppointments lists a client's appointments, oldest first.
func (s *Store) ClientAppointments(clientID uint64) ([]Appointment, error) {
	var out []Appointment
	err := s.db.View(func(tx *bolt.Tx) error {
		prefix := itob(clientID)
		c := tx.Bucket(bucketApptsByClient).Cursor()
		for k, _ := c.Seek(prefix); k != nil && bytes.HasPrefix(k, prefix); k, _ = c.Next() {
			var a Appointment
			if err := getJSON(tx, bucketAppointments, k[16:], &a); err != nil {
				return err
			}
			out = append(out, a)
		}
		return nil
	})
	return out, err
}

// DueReminders lists booked appointments starting between from and to whose reminder is not sent.
func (s *Store) DueReminders(from, to time.Time) ([]Appointment, error) {
	var out []Appointment
	err := s.db.View(func(tx *bolt.Tx) error {
		c := tx.Bucket(bucketApptsDue).Cursor()
		end := uint64(to.Unix())
		for k, _ := c.Seek(itob(uint64(max(from.Unix(), 0)))); k != nil && binary.BigEndian.Uint64(k) <= end; k, _ = c.Next() {
			var a Appointment
			if err := getJSON(tx, bucketAppointments, k[8:], &a); err != nil {
				return err
			}
			out = append(out, a)
		}
		return nil
	})
	return out, err
}

// ErrHasReceipt is returned when deleting an appointment that has a receipt:
// receipts are numbered without gaps, so the record stays.
var ErrHasReceipt = errors.New("store: the appointment has a receipt")

// DeleteAppointment removes an appointment booked by mistake, with its index
// entries; one that was ever given a receipt number stays (ErrHasReceipt).
func (s *Store) DeleteAppointment(id uint64) error {
	return s.db.Update(func(tx *bolt.Tx) error {
		var a Appointment
		if err := getJSON(tx, bucketAppointments, itob(id), &a); err != nil {
			return err
		}
		if a.ReceiptNo != 0 {
			return ErrHasReceipt
		}
		for _, del := range []struct {
			b *bolt.Bucket
			k []byte
		}{
			{tx.Bucket(bucketApptsByClient), byClientKey(a)},
			{tx.Bucket(bucketApptsDue), reminderKey(a)},
			{tx.Bucket(bucketApptsByStart), byStartKey(a)},
			{tx.Bucket(bucketAppointments), itob(a.ID)},
		} {
			if err := del.b.Delete(del.k); err != nil {
				return fmt.Errorf("store: unable to delete appointment %d: %w", id, err)
			}
		}
		return nil
	})
}
