// Package video runs the video rooms of video appointments: when a room is
// open, who may be in it, and the relay of WebRTC signalling between the two
// browsers. Media never pass through it (except through the optional TURN
// relay); nothing of a session's signalling is written anywhere.
package video

import (
	"time"

	"foyer/store"
)

// Window is when a room is open: from Early before the start of the session
// to Late after its end (practice settings).
type Window struct {
	Early, Late time.Duration
}

// WindowOf reads the practice settings.
func WindowOf(p store.Practice) Window {
	return Window{Early: time.Duration(p.VideoEarlyMinutes) * time.Minute, Late: time.Duration(p.VideoLateMinutes) * time.Minute}
}

// Opens is when the room of a opens.
func (w Window) Opens(a store.Appointment) time.Time { return a.Start.Add(-w.Early) }

// Closes is when the room of a closes.
func (w Window) Closes(a store.Appointment) time.Time {
	return a.Start.Add(time.Duration(a.Minutes)*time.Minute + w.Late)
}

// State is where a room stands at a moment.
type State int

// The states of a room.
const (
	// NotVideo: the appointment is in person, it has no room.
	NotVideo State = iota
	// Cancelled: the appointment was cancelled; its room is shut for good.
	Cancelled
	// NotYet: the room opens later.
	NotYet
	// Open: the parties may join.
	Open
	// Over: the room has closed.
	Over
)

// StateAt says whether the room of a is open at now.
func (w Window) StateAt(a store.Appointment, now time.Time) State {
	switch {
	case a.Kind != store.KindVideo:
		return NotVideo
	case a.Status == store.StatusCancelled:
		return Cancelled
	case now.Before(w.Opens(a)):
		return NotYet
	case !now.Before(w.Closes(a)):
		return Over
	}
	return Open
}

// Slot names one booking of an appointment: its start time. A room is joined
// for a slot; once the appointment moves, the old slot's room is refused.
func Slot(a store.Appointment) int64 { return a.Start.Unix() }
