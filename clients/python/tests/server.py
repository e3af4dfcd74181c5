"""Starts a real Switchboard server with demo data for the tests: the binary
from SWITCHBOARD_BIN, or one built from the repository with ``go build``,
on a free port with SQLite in a temporary folder."""

from __future__ import annotations

import os
import re
import shutil
import signal
import socket
import subprocess
import tempfile
import threading
import time
from pathlib import Path

API_KEY = "sbk_test_0123456789abcdef"
REPO = Path(__file__).resolve().parents[3]


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class TestServer:
    """``serve --demo`` on 127.0.0.1; halt() and start() keep port and database."""

    def __init__(self) -> None:
        self._dir = tempfile.mkdtemp(prefix="switchboard-python-test-")
        self._bin = os.environ.get("SWITCHBOARD_BIN") or self._build()
        self.port = _free_port()
        self.target = f"127.0.0.1:{self.port}"
        self.api_key = API_KEY
        self._proc: subprocess.Popen | None = None
        self.log = ""
        self.start()
        m = re.search(r"employee token of Bruce Wayne \(shown once\): (sbe_\S+)", self.log)
        if not m:
            self.stop()
            raise RuntimeError(f"the server printed no employee token:\n{self.log}")
        #: Bruce Wayne's employee token, printed once by --demo.
        self.employee_token = m.group(1)

    def _build(self) -> str:
        out = os.path.join(self._dir, "switchboard")
        subprocess.run(["go", "build", "-o", out, "./server/cmd/switchboard"], cwd=REPO, check=True)
        return out

    def start(self) -> None:
        """Runs the server and returns once it printed its greeting."""
        self.halt()
        proc = subprocess.Popen(
            [self._bin, "serve", "--addr", self.target, "--data-dir", os.path.join(self._dir, "data"),
             "--demo", "--bootstrap-api-key", API_KEY],
            stdout=subprocess.PIPE, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL, text=True,
        )
        self._proc = proc
        out: list[str] = []
        ready = threading.Event()

        def read() -> None:
            for line in proc.stdout:  # type: ignore[union-attr]
                out.append(line)
                # The greeting ends with "Try it:"; the demo's employee token,
                # printed once when the demo is created, comes before it.
                if line.startswith("Try it:") and any("Switchboard is running at" in l for l in out):
                    ready.set()
            ready.set()

        self._reader = threading.Thread(target=read, daemon=True)
        self._reader.start()
        deadline = time.monotonic() + 30
        while not ready.wait(0.05):
            if time.monotonic() > deadline:
                proc.kill()
                raise RuntimeError("server did not start in 30s:\n" + "".join(out))
        self.log = "".join(out)
        if proc.poll() is not None:
            raise RuntimeError(f"server exited with {proc.returncode}:\n{self.log}")

    def halt(self) -> None:
        """Stops the server (SIGTERM) and keeps its database, for start()."""
        if self._proc is not None and self._proc.poll() is None:
            self._proc.send_signal(signal.SIGTERM)
            try:
                self._proc.wait(15)
            except subprocess.TimeoutExpired:
                self._proc.kill()
                self._proc.wait()
        if self._proc is not None:
            self._reader.join(5)
            self._proc.stdout.close()  # type: ignore[union-attr]
        self._proc = None

    def stop(self) -> None:
        """Stops the server and removes its database."""
        self.halt()
        shutil.rmtree(self._dir, ignore_errors=True)
