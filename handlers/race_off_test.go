//go:build !race

package handlers

// raceDetector is off: timings are those of a real server.
const raceDetector = false
