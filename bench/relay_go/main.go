// The compiled floor (bench/floor_servers.py, mode "compiled"): Go's net/http in front of the
// runtime's own solver processes. Each POST whose body is one the launcher prepared is relayed
// as that body's framed call (pickled by the launcher with the runtime's wire format) to the
// least loaded solver process, and answered with a fixed body once the process answers: what a
// server in compiled code, with no Python on the request path, reaches over the same pool.
//
//	relay_go SPEC.json
package main

import (
	"encoding/binary"
	"encoding/json"
	"fmt"
	"io"
	"log"
	"net/http"
	"os"
	"sync"
	"syscall"
)

type spec struct {
	Address    string            `json:"address"`
	PerProcess int               `json:"per_process"` // calls in flight per process: 1 + prefetch
	FDs        []int             `json:"fds"`         // the parent ends of the solver processes' pipes
	Calls      map[string][]byte `json:"calls"`       // request body -> framed call (base64 in JSON)
}

type solver struct {
	pipe    *os.File
	waiting []chan struct{} // callers of the calls sent, answered in order
}

type relay struct {
	mu      sync.Mutex
	solvers []*solver
	slots   chan struct{} // one per call that may be in flight
}

// answers reads one solver process's framed answers and wakes their callers in order.
func (r *relay) answers(s *solver) {
	head := make([]byte, 4)
	buf := make([]byte, 64*1024)
	for {
		if _, err := io.ReadFull(s.pipe, head); err != nil {
			log.Fatalf("a solver process closed its pipe: %v", err)
		}
		size := int(binary.BigEndian.Uint32(head))
		if size > len(buf) {
			buf = make([]byte, size)
		}
		if _, err := io.ReadFull(s.pipe, buf[:size]); err != nil {
			log.Fatalf("a solver process closed its pipe: %v", err)
		}
		r.mu.Lock()
		done := s.waiting[0]
		s.waiting = s.waiting[1:]
		r.mu.Unlock()
		close(done)
		<-r.slots
	}
}

// solve sends call to the process with the fewest calls in flight and waits for its answer.
func (r *relay) solve(call []byte) {
	r.slots <- struct{}{}
	done := make(chan struct{})
	r.mu.Lock()
	best := r.solvers[0]
	for _, s := range r.solvers[1:] {
		if len(s.waiting) < len(best.waiting) {
			best = s
		}
	}
	best.waiting = append(best.waiting, done)
	_, err := best.pipe.Write(call)
	r.mu.Unlock()
	if err != nil {
		log.Fatalf("a solver process closed its pipe: %v", err)
	}
	<-done
}

func main() {
	if len(os.Args) != 2 {
		fmt.Fprintln(os.Stderr, "usage: relay_go SPEC.json")
		os.Exit(2)
	}
	raw, err := os.ReadFile(os.Args[1])
	if err != nil {
		log.Fatal(err)
	}
	var cfg spec
	if err := json.Unmarshal(raw, &cfg); err != nil {
		log.Fatalf("%s: %v", os.Args[1], err)
	}
	r := &relay{slots: make(chan struct{}, cfg.PerProcess*len(cfg.FDs))}
	for _, fd := range cfg.FDs {
		// non-blocking, so reads wait in Go's poller instead of holding a thread each
		if err := syscall.SetNonblock(fd, true); err != nil {
			log.Fatal(err)
		}
		s := &solver{pipe: os.NewFile(uintptr(fd), "solver")}
		r.solvers = append(r.solvers, s)
		go r.answers(s)
	}
	http.HandleFunc("/", func(w http.ResponseWriter, req *http.Request) {
		if req.Method == http.MethodGet { // readiness
			return
		}
		body, err := io.ReadAll(req.Body)
		call, known := cfg.Calls[string(body)]
		if err != nil || !known {
			http.Error(w, "the compiled relay answers the benchmark's requests only", http.StatusBadRequest)
			return
		}
		r.solve(call)
		w.Header().Set("Content-Type", "application/json")
		w.Write([]byte("{}"))
	})
	log.Fatal(http.ListenAndServe(cfg.Address, nil))
}
