// Command fleet starts and stops the test fleet from a shell (make fleet-up / make fleet-down).
//
//	fleet up   [--dir D] [--spokes N] [--metrics]   start a supervisor in the background, wait until the fleet is ready
//	fleet run  [--dir D] [--spokes N] [--metrics]   run the fleet in the foreground until SIGINT/SIGTERM
//	fleet down [--dir D]                stop the background supervisor (it stops every daemon it started)
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"os"
	"os/exec"
	"os/signal"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"time"

	"github.com/ocm-fleet/multicluster-mcp-server/test/fleet"
)

func main() {
	if len(os.Args) < 2 {
		fmt.Fprintln(os.Stderr, "usage: fleet up|run|down [--dir DIR] [--spokes N] [--metrics]")
		os.Exit(2)
	}
	fs := flag.NewFlagSet(os.Args[1], flag.ExitOnError)
	dir := fs.String("dir", ".fleet", "folder for the fleet's state, kubeconfigs and logs")
	spokes := fs.Int("spokes", 2, "number of spokes")
	withMetrics := fs.Bool("metrics", false, "also run a Prometheus and Thanos sidecar per cluster and a Thanos querier on the hub")
	_ = fs.Parse(os.Args[2:])
	abs, err := filepath.Abs(*dir)
	if err == nil {
		switch os.Args[1] {
		case "up":
			err = up(abs, *spokes, *withMetrics)
		case "run":
			err = run(abs, *spokes, *withMetrics)
		case "down":
			err = down(abs)
		default:
			err = fmt.Errorf("unknown command %q (up, run, down)", os.Args[1])
		}
	}
	if err != nil {
		fmt.Fprintln(os.Stderr, "fleet:", err)
		os.Exit(1)
	}
}

func pidFile(dir string) string   { return filepath.Join(dir, "supervisor.pid") }
func readyFile(dir string) string { return filepath.Join(dir, "ready") }

func run(dir string, spokes int, withMetrics bool) error {
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return err
	}
	_ = os.Remove(readyFile(dir))
	ctx, stop := signal.NotifyContext(context.Background(), syscall.SIGINT, syscall.SIGTERM)
	defer stop()
	f, err := fleet.Start(ctx, fleet.Options{Spokes: spokes, Dir: dir, Metrics: withMetrics, Log: func(format string, args ...any) {
		fmt.Fprintf(os.Stderr, format+"\n", args...)
	}})
	if err != nil {
		return err
	}
	defer f.Stop()
	var b strings.Builder
	fmt.Fprintf(&b, "hub %s\n", f.Hub.Kubeconfig)
	for _, s := range f.Spokes {
		fmt.Fprintf(&b, "%s %s\n", s.Name, s.Kubeconfig)
	}
	if f.ThanosQueryURL != "" {
		fmt.Fprintf(&b, "thanos-query %s\n", f.ThanosQueryURL)
		for _, c := range f.Managed() {
			fmt.Fprintf(&b, "prometheus-%s %s\n", c.ManagedClusterName(), c.PrometheusURL)
		}
	}
	fmt.Fprintf(&b, "started-in %s\nrss-bytes %d\n", f.StartDuration.Round(time.Millisecond), f.RSS())
	if err := os.WriteFile(readyFile(dir), []byte(b.String()), 0o600); err != nil {
		return err
	}
	fmt.Fprint(os.Stderr, b.String())
	<-ctx.Done()
	fmt.Fprintln(os.Stderr, "stopping the fleet")
	_ = os.Remove(readyFile(dir))
	return nil
}

func up(dir string, spokes int, withMetrics bool) error {
	if pid, err := readPID(dir); err == nil && alive(pid) {
		return fmt.Errorf("a fleet is already running in %s (supervisor pid %d); run fleet down first", dir, pid)
	}
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return err
	}
	_ = os.Remove(readyFile(dir))
	logf, err := os.Create(filepath.Join(dir, "supervisor.log"))
	if err != nil {
		return err
	}
	defer logf.Close()
	self, err := os.Executable()
	if err != nil {
		return err
	}
	cmd := exec.Command(self, "run", "--dir", dir, "--spokes", strconv.Itoa(spokes), "--metrics="+strconv.FormatBool(withMetrics))
	cmd.Stdout, cmd.Stderr = logf, logf
	cmd.SysProcAttr = &syscall.SysProcAttr{Setsid: true}
	if err := cmd.Start(); err != nil {
		return err
	}
	if err := os.WriteFile(pidFile(dir), []byte(strconv.Itoa(cmd.Process.Pid)), 0o600); err != nil {
		return err
	}
	exited := make(chan error, 1)
	go func() { exited <- cmd.Wait() }()
	tick := time.NewTicker(200 * time.Millisecond)
	defer tick.Stop()
	deadline := time.After(45 * time.Minute) // the first run may build the binaries
	for {
		select {
		case err := <-exited:
			return fmt.Errorf("the fleet supervisor exited (%v); see %s", err, logf.Name())
		case <-deadline:
			return errors.New("the fleet did not become ready in time; see " + logf.Name())
		case <-tick.C:
			if data, err := os.ReadFile(readyFile(dir)); err == nil {
				fmt.Print(string(data))
				fmt.Printf("logs in %s; stop with: make fleet-down\n", filepath.Join(dir, "logs"))
				return nil
			}
		}
	}
}

func down(dir string) error {
	pid, err := readPID(dir)
	if err != nil {
		fmt.Println("no fleet is running in", dir)
		return nil
	}
	if alive(pid) {
		if err := syscall.Kill(pid, syscall.SIGTERM); err != nil {
			return err
		}
		for i := 0; i < 600 && alive(pid); i++ {
			time.Sleep(100 * time.Millisecond)
		}
		if alive(pid) {
			return fmt.Errorf("supervisor %d did not stop within a minute", pid)
		}
	}
	_ = os.Remove(pidFile(dir))
	fmt.Println("fleet stopped")
	return nil
}

func readPID(dir string) (int, error) {
	data, err := os.ReadFile(pidFile(dir))
	if err != nil {
		return 0, err
	}
	return strconv.Atoi(strings.TrimSpace(string(data)))
}

// alive reports whether pid is a running process that is not a zombie.
func alive(pid int) bool {
	if syscall.Kill(pid, 0) != nil {
		return false
	}
	stat, err := os.ReadFile(fmt.Sprintf("/proc/%d/stat", pid))
	return err == nil && !strings.Contains(string(stat), ") Z ")
}
