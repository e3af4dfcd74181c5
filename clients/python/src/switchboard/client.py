"""Typed gRPC clients for every Switchboard service on one channel."""

from __future__ import annotations

import queue
import threading
import time
from typing import Any, Callable, Iterator, Optional, Sequence, Tuple, Union

import grpc

from switchboard.errors import SwitchboardError
from switchboard.v1 import (
    account_pb2_grpc,
    directory_pb2_grpc,
    integration_pb2_grpc,
    notification_pb2,
    notification_pb2_grpc,
    routing_pb2_grpc,
)

#: An account API key ("sbk_…") or an employee token ("sbe_…"), or a function
#: returning one before each call (so a key can change without a new client).
Credential = Union[str, Callable[[], Optional[str]]]

#: Errors a reconnection will not fix: watch() raises them.
FATAL_CODES = frozenset(
    {
        grpc.StatusCode.UNAUTHENTICATED,
        grpc.StatusCode.PERMISSION_DENIED,
        grpc.StatusCode.INVALID_ARGUMENT,
        grpc.StatusCode.NOT_FOUND,
        grpc.StatusCode.UNIMPLEMENTED,
    }
)


class _ClientCallDetails(grpc.ClientCallDetails):
    def __init__(self, details: grpc.ClientCallDetails, metadata: Sequence[Tuple[str, str]]):
        self.method = details.method
        self.timeout = details.timeout
        self.metadata = metadata
        self.credentials = details.credentials
        self.wait_for_ready = getattr(details, "wait_for_ready", None)
        self.compression = getattr(details, "compression", None)


class _BearerAuth(grpc.UnaryUnaryClientInterceptor, grpc.UnaryStreamClientInterceptor):
    """Sends ``authorization: Bearer <key>`` on every call (none when the key is empty)."""

    def __init__(self, key: Credential):
        self._key = key

    def _details(self, details: grpc.ClientCallDetails) -> grpc.ClientCallDetails:
        key = self._key() if callable(self._key) else self._key
        if not key:
            return details
        metadata = [(k, v) for k, v in (details.metadata or ()) if k != "authorization"]
        metadata.append(("authorization", f"Bearer {key}"))
        return _ClientCallDetails(details, metadata)

    def intercept_unary_unary(self, continuation, client_call_details, request):
        return continuation(self._details(client_call_details), request)

    def intercept_unary_stream(self, continuation, client_call_details, request):
        return continuation(self._details(client_call_details), request)


class _Streamed:
    """A server stream whose failure is raised as SwitchboardError."""

    def __init__(self, call: Any):
        self._call = call

    def __iter__(self) -> "_Streamed":
        return self

    def __next__(self) -> Any:
        try:
            return next(self._call)
        except grpc.RpcError as err:
            raise SwitchboardError.from_rpc_error(err) from err

    def cancel(self) -> bool:
        """Ends the stream; the iterator then raises SwitchboardError(CANCELLED)."""
        return self._call.cancel()

    def __getattr__(self, name: str) -> Any:  # initial_metadata(), code(), …
        return getattr(self._call, name)


class Service:
    """One service's generated stub whose methods raise SwitchboardError.

    ``sb.routing.RouteIncomingMessage(request, timeout=5)`` returns the
    response message; a streaming method returns an iterator of messages.
    Keyword arguments are gRPC's (timeout, metadata, wait_for_ready, …).
    """

    def __init__(self, stub: Any):
        self._stub = stub

    def __getattr__(self, name: str) -> Callable[..., Any]:
        method = getattr(self._stub, name)

        def call(*args: Any, **kwargs: Any) -> Any:
            try:
                result = method(*args, **kwargs)
            except grpc.RpcError as err:
                raise SwitchboardError.from_rpc_error(err) from err
            if isinstance(method, grpc.UnaryStreamMultiCallable):
                return _Streamed(result)
            return result

        call.__name__ = name
        return call


class Switchboard:
    """Clients for every service of switchboard.v1, sharing one gRPC channel.

    >>> sb = Switchboard("localhost:8080", api_key="sbk_…")
    >>> sb.directory.ListChannels(directory_pb2.ListChannelsRequest())

    ``target`` is host:port. The server speaks gRPC over cleartext HTTP/2, or
    over TLS behind a proxy: pass ``secure=True`` (system roots) or your own
    ``credentials``. ``channel`` replaces all of that with a channel of your
    own (the key is still sent). ``options`` are gRPC channel options, for
    example keepalive settings.
    """

    def __init__(
        self,
        target: Optional[str] = None,
        api_key: Optional[Credential] = None,
        *,
        secure: bool = False,
        credentials: Optional[grpc.ChannelCredentials] = None,
        channel: Optional[grpc.Channel] = None,
        options: Sequence[Tuple[str, Any]] = (),
    ) -> None:
        if channel is None:
            if not target:
                raise ValueError("Switchboard: target (host:port) or channel is required")
            if credentials is None and secure:
                credentials = grpc.ssl_channel_credentials()
            if credentials is not None:
                channel = grpc.secure_channel(target, credentials, options=list(options))
            else:
                channel = grpc.insecure_channel(target, options=list(options))
        self._own_channel = channel
        if api_key is not None:
            channel = grpc.intercept_channel(channel, _BearerAuth(api_key))
        self.channel = channel
        #: API keys and employee tokens.
        self.account = Service(account_pb2_grpc.AccountServiceStub(channel))
        #: Channels, employees, pipelines, the channel access grid, default outgoing channels.
        self.directory = Service(directory_pb2_grpc.DirectoryServiceStub(channel))
        #: Settings: read, save (with revision), delete, connect and refresh the CRM.
        self.integration = Service(integration_pb2_grpc.IntegrationServiceStub(channel))
        #: Routing of incoming and outgoing messages, access checks, visible chats.
        self.routing = Service(routing_pb2_grpc.RoutingServiceStub(channel))
        #: The notification decision stream (Subscribe) and its log.
        self.notifications = Service(notification_pb2_grpc.NotificationServiceStub(channel))

    def watch(
        self,
        employee_id: str = "",
        *,
        general_chat: bool = False,
        cursor: str = "",
        reconnect: bool = True,
        first_backoff: float = 0.2,
        max_backoff: float = 10.0,
        on_event: Optional[Callable[[notification_pb2.SubscribeResponse], None]] = None,
        on_reconnect: Optional[Callable[[float, str, Optional[SwitchboardError]], None]] = None,
    ) -> "Watch":
        """Streams push decisions, resuming after the last cursor when the stream drops.

        Iterate over the result to get each
        :class:`~switchboard.v1.notification_pb2.NotificationDecision` once,
        across disconnects and server restarts: after an error or a clean end
        of the stream it waits (``first_backoff`` seconds, doubling up to
        ``max_backoff``) and subscribes again after the last cursor received
        (a decision's, a heartbeat's or the catch-up's). Errors a reconnect
        cannot fix (``FATAL_CODES``, e.g. a refused key) are raised as
        :class:`SwitchboardError`, and so is every error when ``reconnect``
        is false. ``cursor`` "" starts with new decisions, "0" replays the
        retained log. ``on_event`` sees every event (heartbeats and CaughtUp
        too); ``on_reconnect(delay, cursor, error)`` is told before each wait.
        ``Watch.close()`` ends it from any thread.
        """
        return Watch(
            self.notifications,
            notification_pb2.SubscribeRequest(employee_id=employee_id, general_chat=general_chat),
            cursor,
            reconnect=reconnect,
            first_backoff=first_backoff,
            max_backoff=max_backoff,
            on_event=on_event,
            on_reconnect=on_reconnect,
        )

    def close(self) -> None:
        """Closes the channel (and with it every stream)."""
        self._own_channel.close()

    def __enter__(self) -> "Switchboard":
        return self

    def __exit__(self, *exc: Any) -> None:
        self.close()


class Watch:
    """The iterator :meth:`Switchboard.watch` returns; ``cursor`` is where it stands."""

    # How long a stream whose status arrived may take to hand over the events
    # before it. Some grpcio releases (Debian 12's 1.51) never wake a reader
    # whose stream failed while it waited; the events not handed over are
    # replayed after the cursor, so giving up on them loses nothing.
    _DRAIN = 1.0

    def __init__(
        self,
        notifications: Service,
        request: notification_pb2.SubscribeRequest,
        cursor: str,
        *,
        reconnect: bool,
        first_backoff: float,
        max_backoff: float,
        on_event: Optional[Callable[[notification_pb2.SubscribeResponse], None]],
        on_reconnect: Optional[Callable[[float, str, Optional[SwitchboardError]], None]],
    ) -> None:
        self._notifications = notifications
        self._request = request
        #: The last cursor received: resuming after it loses nothing.
        self.cursor = cursor
        #: How many times a stream was opened.
        self.connects = 0
        self._reconnect = reconnect
        self._first_backoff = first_backoff
        self._max_backoff = max_backoff
        self._on_event = on_event
        self._on_reconnect = on_reconnect
        self._closed = threading.Event()
        self._lock = threading.Lock()
        self._stream: Optional[_Streamed] = None
        self._inbox: Optional["queue.Queue[Tuple[str, Any]]"] = None
        self._gen = self._run()

    def __iter__(self) -> "Watch":
        return self

    def __next__(self) -> notification_pb2.NotificationDecision:
        return next(self._gen)

    def close(self) -> None:
        """Stops the watch: the iteration ends (StopIteration), from any thread."""
        self._closed.set()
        with self._lock:
            if self._inbox is not None:
                self._inbox.put(("closed", None))
            if self._stream is not None:
                self._stream.cancel()

    def __enter__(self) -> "Watch":
        return self

    def __exit__(self, *exc: Any) -> None:
        self.close()

    def _open(self) -> Optional["queue.Queue[Tuple[str, Any]]"]:
        """Subscribes after the cursor; the stream's events arrive in the returned queue."""
        request = notification_pb2.SubscribeRequest()
        request.CopyFrom(self._request)
        request.cursor = self.cursor
        inbox: "queue.Queue[Tuple[str, Any]]" = queue.Queue()
        with self._lock:
            if self._closed.is_set():
                return None
            stream = self._notifications.Subscribe(request)
            self._stream, self._inbox = stream, inbox
            self.connects += 1
        stream.add_done_callback(lambda call: inbox.put(("done", call)))

        def pump() -> None:
            try:
                for event in stream:
                    inbox.put(("event", event))
                inbox.put(("end", None))
            except SwitchboardError as err:
                inbox.put(("error", err))

        threading.Thread(target=pump, name="switchboard-watch", daemon=True).start()
        return inbox

    def _events(self, inbox: "queue.Queue[Tuple[str, Any]]") -> Iterator[notification_pb2.SubscribeResponse]:
        """The stream's events; returns at its clean end, raises SwitchboardError on failure."""
        done_at: Optional[float] = None
        call: Any = None
        while True:
            try:
                kind, value = inbox.get(timeout=None if done_at is None else 0.05)
            except queue.Empty:
                assert done_at is not None
                if time.monotonic() - done_at < self._DRAIN:
                    continue
                if call.code() == grpc.StatusCode.OK:
                    return
                raise SwitchboardError.from_rpc_error(call)
            if kind == "event":
                yield value
            elif kind == "done":
                done_at, call = time.monotonic(), value
            elif kind == "error":
                raise value
            else:  # "end" or "closed"
                return

    def _run(self) -> Iterator[notification_pb2.NotificationDecision]:
        backoff = self._first_backoff
        while not self._closed.is_set():
            error: Optional[SwitchboardError] = None
            try:
                inbox = self._open()
                if inbox is None:
                    return
                for event in self._events(inbox):
                    if self._on_event is not None:
                        self._on_event(event)
                    kind = event.WhichOneof("event")
                    if kind == "decision":
                        self.cursor = event.decision.cursor
                        backoff = self._first_backoff
                        yield event.decision
                    elif kind == "heartbeat":
                        self.cursor = event.heartbeat.cursor or self.cursor
                    elif kind == "caught_up":
                        self.cursor = event.caught_up.cursor or self.cursor
                        backoff = self._first_backoff
            except SwitchboardError as err:
                if self._closed.is_set():
                    return
                if not self._reconnect or err.code in FATAL_CODES:
                    raise
                error = err
            finally:
                with self._lock:
                    if self._stream is not None:
                        self._stream.cancel()
                    self._stream, self._inbox = None, None
            if self._closed.is_set() or not self._reconnect:
                return
            if self._on_reconnect is not None:
                self._on_reconnect(backoff, self.cursor, error)
            if self._closed.wait(backoff):
                return
            backoff = min(2 * backoff, self._max_backoff)
