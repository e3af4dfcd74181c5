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
	level, msg := slog.LevelDebug, "rpc"
	if err != nil {
		msg = "rpc failed"
		if connect.CodeOf(err) != connect.CodeCanceled { // the client left: for streams, the normal end
			level = slog.LevelWarn
		}
	}
	if !i.log.Enabled(ctx, level) {
		return err
	}
	attrs := []slog.Attr{
		slog.String("procedure", procedure),
		slog.String("protocol", protocol),
		slog.Duration("elapsed", time.Since(start)),
	}
	if err != nil {
		attrs = append(attrs, slog.String("code", connect.CodeOf(err).String()), slog.String("error", err.Error()))
	}
	i.log.LogAttrs(ctx, level, msg, attrs...)
	return err
}
