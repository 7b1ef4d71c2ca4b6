// Package logging builds the zap logger and routes klog, controller-runtime and mcp-go into it.
// Everything goes to stderr: stdout belongs to the stdio transport.
package logging

import (
	"fmt"
	"io"
	"log"
	"log/slog"
	"os"

	"github.com/go-logr/logr"
	"github.com/go-logr/zapr"
	"go.uber.org/zap"
	"go.uber.org/zap/zapcore"
	"k8s.io/klog/v2"
)

// Options selects level and encoding.
type Options struct {
	Level  string // debug, info, warn, error
	Format string // json, console
	// Sink overrides stderr (tests).
	Sink zapcore.WriteSyncer
}

// New builds a logger writing to stderr and makes it the destination of klog's output. Call it once,
// at start: klog's logger is process-global and not safe to swap concurrently.
func New(o Options) (*zap.Logger, error) {
	level, err := zapcore.ParseLevel(o.Level)
	if err != nil {
		return nil, fmt.Errorf("log level: %w", err)
	}
	encCfg := zap.NewProductionEncoderConfig()
	encCfg.EncodeTime = zapcore.ISO8601TimeEncoder
	var enc zapcore.Encoder
	switch o.Format {
	case "console":
		encCfg.EncodeLevel = zapcore.CapitalLevelEncoder
		enc = zapcore.NewConsoleEncoder(encCfg)
	case "json", "":
		enc = zapcore.NewJSONEncoder(encCfg)
	default:
		return nil, fmt.Errorf("log format %q is not json or console", o.Format)
	}
	sink := o.Sink
	if sink == nil {
		sink = zapcore.Lock(os.Stderr)
	}
	z := zap.New(zapcore.NewCore(enc, sink, zap.NewAtomicLevelAt(level)), zap.ErrorOutput(sink))
	klog.SetLoggerWithOptions(Logr(z).WithName("klog"), klog.ContextualLogger(true))
	return z, nil
}

// Logr adapts the logger for libraries that speak logr (klog, controller-runtime).
func Logr(z *zap.Logger) logr.Logger { return zapr.NewLogger(z) }

// Slog adapts the logger for libraries that speak log/slog (mcp-go).
func Slog(z *zap.Logger) *slog.Logger { return slog.New(logr.ToSlogHandler(Logr(z))) }

// StdLog adapts the logger for libraries that take a *log.Logger (mcp-go's stdio error log).
func StdLog(z *zap.Logger, msg string) *log.Logger {
	return log.New(&lineWriter{z: z, msg: msg}, "", 0)
}

type lineWriter struct {
	z   *zap.Logger
	msg string
}

func (w *lineWriter) Write(p []byte) (int, error) {
	w.z.Warn(w.msg, zap.ByteString("detail", trimNewline(p)))
	return len(p), nil
}

func trimNewline(p []byte) []byte {
	for len(p) > 0 && (p[len(p)-1] == '\n' || p[len(p)-1] == '\r') {
		p = p[:len(p)-1]
	}
	return p
}

var _ io.Writer = (*lineWriter)(nil)
