"""One model, one inference at a time, a bounded queue in front of it."""

from __future__ import annotations

import asyncio
import math
import time
from collections.abc import Callable
from concurrent.futures import Future, ThreadPoolExecutor
from typing import Any, TypeVar

T = TypeVar("T")


class Busy(Exception):
    """The model's queue is full; ``retry_after`` is the whole number of seconds a client should wait."""

    def __init__(self, name: str, retry_after: int) -> None:
        super().__init__(f"The model {name!r} is busy; try again in {retry_after} s.")
        self.retry_after = retry_after


class ModelSlot:
    """Runs the jobs of one model one at a time on its own worker thread, refusing jobs beyond ``queue_size``.

    A ``Drawer`` is not thread-safe and holds the model and the face tools; its own single thread serialises its
    calls and keeps the asyncio loop free. A job counts as pending from admission until its thread has finished
    it (a client that disconnects does not free the place of a job that is still running), so at most
    ``1 + queue_size`` jobs of a model exist at any time.

    Args:
        name: the model's name (in error messages and the thread's name).
        queue_size: jobs that may wait behind the running one (0: refuse whenever one is running).
        expected_seconds: the job duration assumed for ``Retry-After`` until a job has been timed.
    """

    def __init__(self, name: str, queue_size: int = 4, expected_seconds: float = 1.0) -> None:
        if queue_size < 0:
            raise ValueError(f"queue_size must be >= 0, got {queue_size}")
        self.name = name
        self.capacity = 1 + queue_size
        self.pending = 0
        self.mean_seconds = expected_seconds
        self.served = 0
        self._executor = ThreadPoolExecutor(max_workers=1, thread_name_prefix=f"draw-{name}")

    def retry_after(self) -> int:
        """Seconds until the queue has likely drained by one place (1 to 120)."""
        return int(min(120, max(1, math.ceil(self.mean_seconds * self.pending))))

    async def run(self, job: Callable[..., T], *args: Any) -> T:
        """Run ``job(*args)`` on the model's thread and return its result (or raise its exception).

        Raises:
            Busy: ``1 + queue_size`` jobs are already pending.
        """
        if self.pending >= self.capacity:
            raise Busy(self.name, self.retry_after())
        loop = asyncio.get_running_loop()
        self.pending += 1
        future: Future = self._executor.submit(self._timed, job, *args)
        future.add_done_callback(lambda _: loop.call_soon_threadsafe(self._release))
        try:
            return await asyncio.wrap_future(future)
        except asyncio.CancelledError:
            future.cancel()  # frees the place at once if the job had not started
            raise

    def _timed(self, job: Callable[..., T], *args: Any) -> T:
        start = time.perf_counter()
        try:
            return job(*args)
        finally:
            self.mean_seconds = 0.7 * self.mean_seconds + 0.3 * (time.perf_counter() - start)

    def _release(self) -> None:
        self.pending -= 1
        self.served += 1

    def close(self) -> None:
        """Stop the worker thread after the jobs already queued."""
        self._executor.shutdown(wait=False, cancel_futures=True)
