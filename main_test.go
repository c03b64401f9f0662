package main

import (
	"bufio"
	"context"
	"io"
	"log/slog"
	"net"
	"net/http"
	"strings"
	"sync/atomic"
	"testing"
	"time"
)

func quietLog() *slog.Logger { return slog.New(slog.NewTextHandler(io.Discard, nil)) }

// A client that stops reading a long response does not keep the server
// from stopping: shutdown ends within its timeout, and the background jobs
// have returned by then.
func TestShutdownWithinTimeoutDespiteSlowReader(t *testing.T) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	started := make(chan struct{}, 1)
	srv := &http.Server{Handler: http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		started <- struct{}{}
		chunk := make([]byte, 64<<10)
		for {
			if _, err := w.Write(chunk); err != nil {
				return
			}
		}
	})}
	ctx, cancel := context.WithCancel(context.Background())
	var jobDone atomic.Bool
	job := func(ctx context.Context) { <-ctx.Done(); jobDone.Store(true) }
	result := make(chan error, 1)
	go func() { result <- runServer(ctx, quietLog(), srv, ln, time.Second, job) }()

	conn, err := net.Dial("tcp", ln.Addr().String())
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	io.WriteString(conn, "GET / HTTP/1.1\r\nHost: x\r\n\r\n")
	if _, err := http.ReadResponse(bufio.NewReader(conn), nil); err != nil {
		t.Fatal(err)
	}
	<-started
	time.Sleep(100 * time.Millisecond) // the handler is now blocked on a full socket
	stopAt := time.Now()
	cancel()
	select {
	case err := <-result:
		if took := time.Since(stopAt); took > 3*time.Second {
			t.Fatalf("stopping took %s with a 1 s timeout", took)
		}
		if err != nil {
			t.Fatalf("runServer: %v", err)
		}
	case <-time.After(10 * time.Second):
		t.Fatal("the server did not stop 10 s after being told to, with a 1 s timeout")
	}
	if !jobDone.Load() {
		t.Fatal("runServer returned before its background jobs")
	}
}

// When serving fails, runServer still stops the background jobs and waits for them.
func TestServeFailureWaitsForJobs(t *testing.T) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	ln.Close() // Serve fails at once
	var jobDone atomic.Bool
	job := func(ctx context.Context) {
		<-ctx.Done()
		time.Sleep(100 * time.Millisecond) // a job that takes a moment to finish
		jobDone.Store(true)
	}
	err = runServer(context.Background(), quietLog(), &http.Server{}, ln, 5*time.Second, job)
	if err == nil || !strings.Contains(err.Error(), "closed") {
		t.Fatalf("runServer: %v", err)
	}
	if !jobDone.Load() {
		t.Fatal("runServer returned before its background jobs")
	}
}
