//go:build race

package handlers

// raceDetector is on: timings are several times slower and uneven.
const raceDetector = true
