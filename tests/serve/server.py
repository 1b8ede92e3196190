"""Runs ``python -m apd_lightning serve`` in a child process on a free localhost port, as a person would."""

from __future__ import annotations

import os
import queue
import re
import subprocess
import sys
import threading
import time
from pathlib import Path

URL_LINE = re.compile(r"serving .* on (http://127\.0\.0\.1:\d+/)")


class ServerProcess:
    """``serve`` started with ``args`` (plus ``--port 0``); :attr:`url` once it listens. Its stderr (uvicorn's log)
    goes to ``log_path``."""

    def __init__(self, args: list[str], log_path: Path, startup_timeout: float = 300.0) -> None:
        self.log_path = log_path
        self._log = open(log_path, "w")  # noqa: SIM115 - closed in stop()
        env = {**os.environ, "PYTHONUNBUFFERED": "1"}
        command = [sys.executable, "-m", "apd_lightning", "serve", *args, "--port", "0", "--log-level", "warning"]
        self.process = subprocess.Popen(command, stdout=subprocess.PIPE, stderr=self._log, text=True, env=env)
        self.lines: queue.Queue[str] = queue.Queue()
        threading.Thread(target=self._drain, daemon=True).start()
        self.url = self._wait_for_url(startup_timeout)

    def _drain(self) -> None:
        for line in self.process.stdout:
            self.lines.put(line)

    def _wait_for_url(self, timeout: float) -> str:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            try:
                line = self.lines.get(timeout=0.5)
            except queue.Empty:
                if self.process.poll() is not None:
                    break
                continue
            if match := URL_LINE.search(line):
                return match.group(1)
        self.stop()
        raise RuntimeError(f"serve did not start (exit {self.process.poll()}): {self.log_tail()}")

    @property
    def pid(self) -> int:
        return self.process.pid

    def rss_mb(self) -> float:
        """Resident memory of the server process in MiB (Linux ``/proc``)."""
        for line in Path(f"/proc/{self.pid}/status").read_text().splitlines():
            if line.startswith("VmRSS:"):
                return int(line.split()[1]) / 1024
        raise RuntimeError("no VmRSS line")

    def log_tail(self, lines: int = 15) -> str:
        if not self._log.closed:
            self._log.flush()
        return "\n".join(self.log_path.read_text(errors="replace").splitlines()[-lines:])

    def stop(self) -> int | None:
        """Ctrl+C (SIGINT), then kill after 20 s; returns the exit status."""
        if self.process.poll() is None:
            self.process.send_signal(2)
            try:
                self.process.wait(20)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait(10)
        self._log.close()
        return self.process.returncode
