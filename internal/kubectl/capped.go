package kubectl

import (
	"bytes"
	"errors"
	"sync"
)

// errOutputCap stops a command whose output reached the engine's cap.
var errOutputCap = errors.New("output cap reached")

// cappedBuffer keeps at most limit bytes of a command's output. At the cap it refuses further writes
// (printers stop at a write error) and calls onCap once (which cancels the call, so no more is read
// from the cluster): output is bounded while it is produced, not after. It is safe for the goroutine
// of a command that outlives its call.
type cappedBuffer struct {
	mu     sync.Mutex
	buf    bytes.Buffer
	limit  int
	capped bool
	onCap  func()
}

func (c *cappedBuffer) Write(p []byte) (int, error) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.capped {
		return 0, errOutputCap
	}
	if room := c.limit - c.buf.Len(); len(p) > room {
		c.buf.Write(p[:room])
		c.capped = true
		if c.onCap != nil {
			c.onCap()
		}
		return room, errOutputCap
	}
	return c.buf.Write(p)
}

func (c *cappedBuffer) String() string {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.buf.String()
}

func (c *cappedBuffer) Capped() bool {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.capped
}
