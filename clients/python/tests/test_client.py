"""The Python client against a real server with demo data."""

from __future__ import annotations

import queue
import threading
import time
import unittest
from typing import List, Optional

import grpc

from server import TestServer
from switchboard import Switchboard, SwitchboardError, Watch
from switchboard.v1 import common_pb2, directory_pb2, notification_pb2, routing_pb2

WAIT = 30.0


class Watcher:
    """Runs a watch in a thread and queues what it yields."""

    def __init__(self, watch: Watch) -> None:
        self.watch = watch
        self.decisions: "queue.Queue[notification_pb2.NotificationDecision]" = queue.Queue()
        self.error: Optional[BaseException] = None
        self.thread = threading.Thread(target=self._run, daemon=True)
        self.thread.start()

    def _run(self) -> None:
        try:
            for d in self.watch:
                self.decisions.put(d)
        except BaseException as err:  # handed to the test
            self.error = err

    def take(self, n: int) -> List[notification_pb2.NotificationDecision]:
        out = []
        deadline = time.monotonic() + WAIT
        while len(out) < n:
            left = deadline - time.monotonic()
            if left <= 0 or self.error is not None:
                raise AssertionError(f"got {len(out)} of {n} decisions (error: {self.error!r})")
            try:
                out.append(self.decisions.get(timeout=min(left, 0.1)))
            except queue.Empty:
                pass
        return out

    def stop(self) -> None:
        self.watch.close()
        self.thread.join(10)
        assert not self.thread.is_alive(), "the watch ends when closed"


def wait_for(what: str, cond) -> None:
    deadline = time.monotonic() + WAIT
    while not cond():
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out waiting for {what}")
        time.sleep(0.02)


class ClientTest(unittest.TestCase):
    server: TestServer

    @classmethod
    def setUpClass(cls) -> None:
        cls.server = TestServer()

    @classmethod
    def tearDownClass(cls) -> None:
        cls.server.stop()

    def setUp(self) -> None:
        self.sb = Switchboard(self.server.target, api_key=self.server.api_key)
        self.addCleanup(self.sb.close)
        channels = self.sb.directory.ListChannels(directory_pb2.ListChannelsRequest()).channels
        self.whatsapp = next(c for c in channels if c.name == "WhatsApp Sales")

    def bruce_client(self, phone: str) -> None:
        """Makes Bruce Wayne (whose token the demo prints) responsible for the client on phone."""
        employees = self.sb.directory.ListEmployees(directory_pb2.ListEmployeesRequest()).employees
        bruce = next(e for e in employees if e.name == "Bruce Wayne")
        first = self.route("first message", phone=phone)
        if first.client.responsible_employee_id != bruce.id:
            self.sb.routing.AssignResponsible(
                routing_pb2.AssignResponsibleRequest(chat_id=first.chat.id, employee_id=bruce.id), timeout=10
            )

    def route(self, text: str, phone: str = "+79161234567") -> routing_pb2.RoutingDecision:
        res = self.sb.routing.RouteIncomingMessage(
            routing_pb2.RouteIncomingMessageRequest(
                channel_id=self.whatsapp.id,
                sender_phone=phone,
                sender_name="Python test",
                content=common_pb2.MessageContent(text=text),
                gateway_message_id=f"python-{text.replace(' ', '-')}-{time.time_ns()}",
            ),
            timeout=10,
        )
        return res.decision

    def employee_watch(self, cursor: str = "", **kw) -> tuple[Switchboard, Watch, threading.Event]:
        """Bruce Wayne's watch (employee token) and an event set on each CaughtUp."""
        employee = Switchboard(self.server.target, api_key=self.server.employee_token)
        self.addCleanup(employee.close)
        caught_up = threading.Event()

        def on_event(e: notification_pb2.SubscribeResponse) -> None:
            if e.WhichOneof("event") == "caught_up":
                caught_up.set()

        return employee, employee.watch(cursor=cursor, on_event=on_event, **kw), caught_up

    def test_routed_message_is_pushed_on_the_watch(self) -> None:
        self.bruce_client("+79160000002")
        _, watch, caught_up = self.employee_watch()
        w = Watcher(watch)
        self.addCleanup(w.stop)
        self.assertTrue(caught_up.wait(WAIT), "the stream connects")
        decision = self.route("hello from python", phone="+79160000002")
        pushed = [n for n in decision.notifications if n.employee_id]
        self.assertTrue(pushed, "the message pushes an employee")
        (got,) = w.take(1)
        self.assertEqual(got.employee_id, pushed[0].employee_id)
        self.assertEqual(got.channel_name, "WhatsApp Sales")
        self.assertEqual(got.preview, "hello from python")
        self.assertTrue(got.cursor)
        self.assertEqual(watch.cursor, got.cursor)

    def test_bad_input_has_field_violations(self) -> None:
        def refused(**fields) -> SwitchboardError:
            fields.setdefault("channel_id", self.whatsapp.id)
            fields.setdefault("content", common_pb2.MessageContent(text="hi"))
            request = routing_pb2.RouteIncomingMessageRequest(**fields)
            with self.assertRaises(SwitchboardError) as ctx:
                self.sb.routing.RouteIncomingMessage(request, timeout=10)
            err = ctx.exception
            self.assertEqual(err.code, grpc.StatusCode.INVALID_ARGUMENT)
            self.assertTrue(err.message)
            self.assertIsInstance(err.__cause__, grpc.RpcError)
            self.assertTrue(all(v.description for v in err.field_violations))
            return err

        # Every bad field of the request's shape at once, then its content.
        shape = refused(channel_id="x", sender_phone="+79161234567", content=common_pb2.MessageContent())
        self.assertEqual(
            sorted(v.field for v in shape.field_violations), ["channel_id", "content", "gateway_message_id"]
        )
        phone = refused(sender_phone="not a phone", gateway_message_id=f"python-bad-{time.time_ns()}")
        self.assertEqual([v.field for v in phone.field_violations], ["sender_phone"])
        self.assertIn("not a phone", phone.field_violations[0].description)

    def test_refused_key(self) -> None:
        bad = Switchboard(self.server.target, api_key="sbk_not_a_key")
        self.addCleanup(bad.close)
        with self.assertRaises(SwitchboardError) as ctx:
            bad.directory.ListChannels(directory_pb2.ListChannelsRequest(), timeout=10)
        self.assertEqual(ctx.exception.code, grpc.StatusCode.UNAUTHENTICATED)
        # watch() gives up at once: reconnecting would not help.
        reconnects: list = []
        watch = bad.watch(on_reconnect=lambda *a: reconnects.append(a))
        with self.assertRaises(SwitchboardError) as ctx:
            next(watch)
        self.assertEqual(ctx.exception.code, grpc.StatusCode.UNAUTHENTICATED)
        self.assertEqual(reconnects, [])

    def test_resumes_from_its_cursor_without_gap_or_duplicate(self) -> None:
        reconnects: list = []
        self.bruce_client("+79160000001")
        _, watch, caught_up = self.employee_watch(
            first_backoff=0.05, max_backoff=0.5, on_reconnect=lambda *a: reconnects.append(a)
        )
        w = Watcher(watch)
        self.addCleanup(w.stop)
        self.assertTrue(caught_up.wait(WAIT), "the stream connects")
        for i in range(1, 4):
            self.route(f"before restart {i}", phone="+79160000001")
        before = w.take(3)

        # The server goes away under the watch and comes back on the same
        # port and database; meanwhile nothing is decided.
        self.server.halt()
        wait_for("the watch to notice", lambda: len(reconnects) > 0)
        self.assertEqual(reconnects[0][1], before[-1].cursor, "it resumes after the last decision")
        caught_up.clear()
        self.server.start()
        self.assertTrue(caught_up.wait(WAIT), "the stream connects again")
        for i in range(4, 6):
            self.route(f"after restart {i}", phone="+79160000001")
        after = w.take(2)
        self.assertGreaterEqual(watch.connects, 2)

        seen = before + after
        self.assertEqual([d.preview for d in seen],
                         ["before restart 1", "before restart 2", "before restart 3",
                          "after restart 4", "after restart 5"])
        self.assertEqual(len({d.cursor for d in seen}), 5, "no cursor twice")
        time.sleep(0.3)
        self.assertTrue(w.decisions.empty(), "nothing more")
        w.stop()

        # A decision made while no one watches, then a new watch from the
        # last cursor: exactly that decision.
        self.route("while away 6", phone="+79160000001")
        _, again, caught_up = self.employee_watch(cursor=watch.cursor)
        w2 = Watcher(again)
        self.addCleanup(w2.stop)
        (later,) = w2.take(1)
        self.assertTrue(caught_up.wait(WAIT))
        self.assertEqual(later.preview, "while away 6")
        self.assertNotIn(later.cursor, {d.cursor for d in seen})
        time.sleep(0.3)
        self.assertTrue(w2.decisions.empty(), "only what came meanwhile")


if __name__ == "__main__":
    unittest.main()
