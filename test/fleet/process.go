package fleet

import (
	"bytes"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"time"
)

// Process is one fleet daemon. It can be stopped and started again (tests stop agents and API servers
// to create faults).
type Process struct {
	Name string
	bin  string
	args []string
	env  []string
	dir  string
	log  string

	mu   sync.Mutex
	cmd  *exec.Cmd
	done chan struct{}
}

func newProcess(name, bin, logDir string, args ...string) *Process {
	return &Process{Name: name, bin: bin, args: args, log: filepath.Join(logDir, name+".log")}
}

// LogPath is the file that receives the process's stdout and stderr.
func (p *Process) LogPath() string { return p.log }

// Start launches the process. Its output is appended to its log file.
func (p *Process) Start() error {
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.cmd != nil {
		return fmt.Errorf("%s is already running (pid %d)", p.Name, p.cmd.Process.Pid)
	}
	logf, err := os.OpenFile(p.log, os.O_CREATE|os.O_APPEND|os.O_WRONLY, 0o600)
	if err != nil {
		return err
	}
	fmt.Fprintf(logf, "=== %s start: %s %s\n", time.Now().Format(time.RFC3339), p.bin, strings.Join(p.args, " "))
	cmd := exec.Command(p.bin, p.args...)
	cmd.Dir = p.dir
	cmd.Env = append(os.Environ(), p.env...)
	cmd.Stdout, cmd.Stderr = logf, logf
	// Own process group, so a terminal's Ctrl-C reaches only the supervisor, which stops daemons in order;
	// and the kernel kills the daemon if the process that started it dies without cleaning up.
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true, Pdeathsig: syscall.SIGKILL}
	if err := cmd.Start(); err != nil {
		logf.Close()
		return fmt.Errorf("starting %s: %w", p.Name, err)
	}
	done := make(chan struct{})
	go func() {
		_ = cmd.Wait()
		logf.Close()
		close(done)
	}()
	p.cmd, p.done = cmd, done
	return nil
}

// StartAgain starts a process that has ended by itself once more, with the same command and log.
func (p *Process) StartAgain() error {
	p.mu.Lock()
	if p.done == nil {
		p.mu.Unlock()
		return fmt.Errorf("%s was never started", p.Name)
	}
	select {
	case <-p.done:
	default:
		p.mu.Unlock()
		return fmt.Errorf("%s is still running (pid %d)", p.Name, p.cmd.Process.Pid)
	}
	p.cmd, p.done = nil, nil
	p.mu.Unlock()
	return p.Start()
}

// Exited reports whether a started process has ended by itself.
func (p *Process) Exited() bool {
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.done == nil {
		return false
	}
	select {
	case <-p.done:
		return true
	default:
		return false
	}
}

// PID is the process id, or 0 when it is not running.
func (p *Process) PID() int {
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.cmd == nil {
		return 0
	}
	return p.cmd.Process.Pid
}

// Stop sends SIGTERM, waits up to grace, then SIGKILL. Stopping a stopped process is a no-op.
func (p *Process) Stop(grace time.Duration) {
	p.mu.Lock()
	cmd, done := p.cmd, p.done
	p.cmd, p.done = nil, nil
	p.mu.Unlock()
	if cmd == nil {
		return
	}
	_ = cmd.Process.Signal(syscall.SIGTERM)
	select {
	case <-done:
	case <-time.After(grace):
		_ = cmd.Process.Kill()
		<-done
	}
}

// Pause freezes the process (SIGSTOP): it keeps its sockets but answers nothing, like a hung server.
func (p *Process) Pause() error {
	if err := p.signal(syscall.SIGSTOP); err != nil {
		return err
	}
	// kill(2) returns before the process has stopped: each thread stops when it next enters the kernel,
	// and on a loaded machine one may still serve a request meanwhile. Wait until every thread is stopped.
	pid := p.PID()
	deadline := time.Now().Add(10 * time.Second)
	for !allThreadsStopped(pid) {
		if time.Now().After(deadline) {
			return fmt.Errorf("%s (pid %d) did not stop within 10s of SIGSTOP", p.Name, pid)
		}
		time.Sleep(5 * time.Millisecond) // polling a condition, with a deadline
	}
	return nil
}

// allThreadsStopped reports whether every thread of pid is in the stopped state (T or t in its stat).
func allThreadsStopped(pid int) bool {
	tasks, err := os.ReadDir(fmt.Sprintf("/proc/%d/task", pid))
	if err != nil || len(tasks) == 0 {
		return false
	}
	for _, t := range tasks {
		stat, err := os.ReadFile(fmt.Sprintf("/proc/%d/task/%s/stat", pid, t.Name()))
		if err != nil {
			return false
		}
		// The state follows the command name in parentheses, which may itself hold spaces.
		i := bytes.LastIndexByte(stat, ')')
		if i < 0 || i+2 >= len(stat) || (stat[i+2] != 'T' && stat[i+2] != 't') {
			return false
		}
	}
	return true
}

// Resume thaws a paused process (SIGCONT).
func (p *Process) Resume() error { return p.signal(syscall.SIGCONT) }

func (p *Process) signal(sig syscall.Signal) error {
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.cmd == nil {
		return fmt.Errorf("%s is not running", p.Name)
	}
	return p.cmd.Process.Signal(sig)
}

// RSS is the resident memory of the running process in bytes (0 when not running).
func (p *Process) RSS() int64 {
	pid := p.PID()
	if pid == 0 {
		return 0
	}
	data, err := os.ReadFile(fmt.Sprintf("/proc/%d/status", pid))
	if err != nil {
		return 0
	}
	for _, line := range bytes.Split(data, []byte("\n")) {
		if f := strings.Fields(string(line)); len(f) >= 2 && f[0] == "VmRSS:" {
			kb, _ := strconv.ParseInt(f[1], 10, 64)
			return kb * 1024
		}
	}
	return 0
}

// Tail returns the last n bytes of the process's log, for error messages.
func (p *Process) Tail(n int) string {
	data, err := os.ReadFile(p.log)
	if err != nil {
		return ""
	}
	if len(data) > n {
		data = data[len(data)-n:]
	}
	return string(data)
}

var errExited = errors.New("process exited")
