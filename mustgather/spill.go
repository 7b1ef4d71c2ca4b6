package mustgather

import (
	"fmt"
	"os"
	"sync"
)

// spill keeps the objects of an archive, each decoded once and encoded as compact JSON, in one file of
// a private folder: answers that need whole objects read their bytes from it (the system's page cache
// holds the hot part) instead of parsing YAML again, and the heap holds only where each one is. When
// the folder cannot be written, the bytes are kept in memory instead.
type spill struct {
	mu   sync.Mutex
	f    *os.File // nil when the file could not be made
	size int64
	err  error // the first write error: later objects are kept in memory
}

// spillRef is where one object's JSON is: in the file, or in raw when it could not be written there.
type spillRef struct {
	off int64
	n   int
	raw []byte
}

// openSpill makes the spill file in dir. It does not fail: without a file, objects stay in memory.
func openSpill(dir string) *spill {
	f, err := os.CreateTemp(dir, "objects-*.json")
	if err != nil {
		return &spill{err: err}
	}
	return &spill{f: f}
}

// put stores one object's JSON.
func (s *spill) put(data []byte) spillRef {
	s.mu.Lock()
	if s.f == nil || s.err != nil {
		s.mu.Unlock()
		return spillRef{raw: data, n: len(data)}
	}
	off := s.size
	s.size += int64(len(data))
	s.mu.Unlock()
	// Writes to distinct ranges of the file run in parallel.
	if _, err := s.f.WriteAt(data, off); err != nil {
		s.mu.Lock()
		if s.err == nil {
			s.err = err
		}
		s.mu.Unlock()
		return spillRef{raw: data, n: len(data)}
	}
	return spillRef{off: off, n: len(data)}
}

// get reads one object's JSON.
func (s *spill) get(r spillRef) ([]byte, error) {
	if r.raw != nil {
		return r.raw, nil
	}
	buf := make([]byte, r.n)
	if _, err := s.f.ReadAt(buf, r.off); err != nil {
		return nil, fmt.Errorf("reading the index of the must-gather: %w", err)
	}
	return buf, nil
}

// close removes the file.
func (s *spill) close() {
	if s == nil || s.f == nil {
		return
	}
	name := s.f.Name()
	_ = s.f.Close()
	_ = os.Remove(name)
}
