"""One inference at a time per model, a bounded queue, 503 + Retry-After beyond it (in process, fake drawers)."""

from __future__ import annotations

import asyncio
import threading

import httpx
import pytest

from apd_lightning.serve import ServeSettings, create_app
from apd_lightning.serve.slots import Busy, ModelSlot

from .conftest import FakeDrawer, encode, textured_photo


def test_slot_runs_jobs_one_at_a_time_and_refuses_beyond_its_queue():
    gate = threading.Event()
    running, overlap = [0], [0]

    def job(value: int) -> int:
        running[0] += 1
        overlap[0] = max(overlap[0], running[0])
        gate.wait(5)
        running[0] -= 1
        return value * 2

    async def scenario():
        slot = ModelSlot("m", queue_size=2)
        tasks = [asyncio.create_task(slot.run(job, i)) for i in range(3)]
        await asyncio.sleep(0.05)
        assert slot.pending == 3
        with pytest.raises(Busy) as refused:
            await slot.run(job, 99)
        assert 1 <= refused.value.retry_after <= 120 and "busy" in str(refused.value)
        gate.set()
        results = await asyncio.gather(*tasks)
        await asyncio.sleep(0.01)  # the release runs on the loop after each job
        assert slot.pending == 0 and slot.served == 3
        slot.close()
        return results

    assert asyncio.run(scenario()) == [0, 2, 4]
    assert overlap[0] == 1


def test_slot_propagates_errors_and_frees_the_place():
    def job():
        raise KeyError("boom")

    async def scenario():
        slot = ModelSlot("m", queue_size=0)
        with pytest.raises(KeyError):
            await slot.run(job)
        await asyncio.sleep(0.01)
        assert slot.pending == 0
        assert await slot.run(lambda: 5) == 5

    asyncio.run(scenario())
    with pytest.raises(ValueError, match="queue_size"):
        ModelSlot("m", queue_size=-1)


def test_requests_beyond_the_queue_get_503_with_retry_after_and_none_is_lost():
    """12 concurrent requests, model held busy, queue of 2: 3 are drawn (one at a time), 9 get 503 at once."""
    gate = threading.Event()
    busy, idle = FakeDrawer(gate=gate), FakeDrawer("apdrawinggan")
    app = create_app({"busy": busy, "idle": idle}, ServeSettings(queue_size=2))
    photo = encode(textured_photo())

    async def scenario():
        transport = httpx.ASGITransport(app=app)
        async with httpx.AsyncClient(transport=transport, base_url="http://test", timeout=30) as client:

            async def send(model: str):
                return await client.post("/api/draw", files={"photo": ("p.png", photo)}, data={"model": model})

            tasks = [asyncio.create_task(send("busy")) for _ in range(12)]
            for _ in range(1000):  # the 9 refusals come back while the model is still held
                if sum(t.done() for t in tasks) >= 9:
                    break
                await asyncio.sleep(0.01)
            other = await send("idle")  # another model is not blocked by the busy one
            gate.set()
            return other, await asyncio.gather(*tasks)

    other, answers = asyncio.run(scenario())
    codes = sorted(answer.status_code for answer in answers)
    assert other.status_code == 200
    assert codes == [200] * 3 + [503] * 9
    for answer in answers:
        if answer.status_code == 503:
            assert int(answer.headers["retry-after"]) >= 1 and "busy" in answer.json()["detail"]
    assert busy.overlap == 1 and len(busy.calls) == 3
