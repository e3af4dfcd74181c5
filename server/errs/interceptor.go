package errs

import (
	"context"
	"log/slog"
	"time"

	"connectrpc.com/connect"
)

// Interceptor maps every error a handler or inner interceptor returns with
// ToConnect, and logs each call: failures at warn (internal ones at error,
// with their cause), successes at debug.
func Interceptor(log *slog.Logger) connect.Interceptor { return interceptor{log} }

type interceptor struct{ log *slog.Logger }

func (i interceptor) WrapUnary(next connect.UnaryFunc) connect.UnaryFunc {
	return func(ctx context.Context, req connect.AnyRequest) (connect.AnyResponse, error) {
		start := time.Now()
		res, err := next(ctx, req)
		err = i.finish(ctx, req.Spec().Procedure, req.Peer().Protocol, start, err)
		return res, err
	}
}

func (i interceptor) WrapStreamingClient(next connect.StreamingClientFunc) connect.StreamingClientFunc {
	return next
}

func (i interceptor) WrapStreamingHandler(next connect.StreamingHandlerFunc) connect.StreamingHandlerFunc {
	return func(ctx context.Context, conn connect.StreamingHandlerConn) error {
		start := time.Now()
		err := next(ctx, conn)
		return i.finish(ctx, conn.Spec().Procedure, conn.Peer().Protocol, start, err)
	}
}

func (i interceptor) finish(ctx context.Context, procedure, protocol string, start time.Time, err error) error {
	err = ToConnect(ctx, i.log, procedure, err)
	attrs := []slog.Attr{
		slog.String("procedure", procedure),
		slog.String("protocol", protocol),
		slog.Duration("elapsed", time.Since(start)),
	}
	if err == nil {
		i.log.LogAttrs(ctx, slog.LevelDebug, "rpc", attrs...)
		return nil
	}
	code := connect.CodeOf(err)
	attrs = append(attrs, slog.String("code", code.String()), slog.String("error", err.Error()))
	level := slog.LevelWarn
	if code == connect.CodeCanceled {
		level = slog.LevelDebug // the client left; for streams, the normal end
	}
	i.log.LogAttrs(ctx, level, "rpc failed", attrs...)
	return err
}
