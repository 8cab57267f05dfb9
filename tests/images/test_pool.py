"""The GPU worker pool against fakes of ComfyUI and Automatic1111 (tests/fakes/comfyui.py,
tests/fakes/a1111.py) and the real database: renders spread over the workers within their
capacity, even from two processes at once; a worker's failure moves the render to another and
counts against the worker; failures in a row take it offline until a heartbeat; the pool says
plainly when no worker is left."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from contextlib import AsyncExitStack, asynccontextmanager
from dataclasses import dataclass
from datetime import timedelta
from typing import Any

import pytest
from sqlalchemy import func, select, update

from luna_narrates.config import ImageWorkerConfig
from luna_narrates.db.engine import Database
from luna_narrates.db.tables import ImageWorker, ImageWorkerSlot
from luna_narrates.images import repository
from luna_narrates.images.errors import ImageWorkerError, NoImageWorker
from luna_narrates.images.pool import OFFLINE_AFTER, ImagePool
from luna_narrates.images.workers import ApiType, ImageRequest
from luna_narrates.kit.serving import free_port
from luna_narrates.services import Services
from tests.fakes.a1111 import FakeA1111
from tests.fakes.comfyui import FakeComfyUI
from tests.fakes.common import CutOff, Fail, Hang

FOG = ImageRequest(prompt="fog over the canal", width=32, height=32, steps=2, seed=7)


@dataclass(frozen=True)
class Served:
    fake: FakeComfyUI | FakeA1111
    url: str
    api_type: ApiType

    def worker(self, name: str, max_concurrent: int = 1, priority: int = 0) -> ImageWorkerConfig:
        return ImageWorkerConfig(
            name=name,
            api_type=self.api_type,
            api_url=self.url,
            max_concurrent=max_concurrent,
            priority=priority,
        )

    def renders(self) -> int:
        path = "/prompt" if self.api_type == "comfyui" else "/sdapi/v1/txt2img"
        return len(self.fake.requests_to(path))


# Three servers for the module, reset for each test.


@pytest.fixture(scope="module")
async def servers() -> AsyncIterator[list[Served]]:
    fakes: list[tuple[FakeComfyUI | FakeA1111, ApiType]] = [
        (FakeComfyUI(), "comfyui"),
        (FakeA1111(), "automatic1111"),
        (FakeComfyUI(), "comfyui"),
    ]
    async with AsyncExitStack() as stack:
        yield [
            Served(fake, await stack.enter_async_context(fake.serve()), api_type)
            for fake, api_type in fakes
        ]


@pytest.fixture
async def comfy(servers: list[Served]) -> Served:
    return await fresh(servers[0])


@pytest.fixture
async def a1111(servers: list[Served]) -> Served:
    return await fresh(servers[1])


@pytest.fixture
async def comfy_2(servers: list[Served]) -> Served:
    return await fresh(servers[2])


async def fresh(served: Served) -> Served:
    """The server once it holds no render a previous test left, with its script forgotten."""
    async with asyncio.timeout(5):
        await served.fake.in_flight.idle()
    served.fake.reset()
    return served


@asynccontextmanager
async def pool_of(
    services: Services,
    *workers: ImageWorkerConfig,
    image_timeout: float = 10,
    db: Database | None = None,
) -> AsyncIterator[ImagePool]:
    """A synced pool of `workers`; `db` stands for another process's connections."""
    settings = services.settings.model_copy(
        update={"luna_image_workers": list(workers), "image_timeout_seconds": image_timeout}
    )
    pool = ImagePool(db or services.db, settings)
    await pool.sync()
    try:
        yield pool
    finally:
        await pool.aclose()


async def rows(services: Services) -> dict[str, ImageWorker]:
    async with services.db.sessions() as session:
        return {row.name: row for row in await session.scalars(select(ImageWorker))}


def down_url() -> str:
    return f"http://127.0.0.1:{free_port()}"


# Load.


async def test_renders_spread_over_the_workers_within_their_capacity(
    services: Services, comfy: Served, a1111: Served, comfy_2: Served
) -> None:
    """Twenty renders at once from two processes (two pools, each on its own connections)."""
    capacity = {"small": comfy, "medium": a1111, "large": comfy_2}
    for served in capacity.values():
        served.fake.render_seconds = 0.05
    workers = [
        served.worker(name, max_concurrent=size)
        for size, (name, served) in enumerate(capacity.items(), start=1)
    ]
    other_process = Database.connect(services.db.url, pool_size=5)
    try:
        async with (
            pool_of(services, *workers) as pool,
            pool_of(services, *workers, db=other_process) as other,
        ):
            results = await asyncio.gather(
                *(
                    (pool if n % 2 else other).render(FOG.model_copy(update={"seed": n}))
                    for n in range(20)
                )
            )
    finally:
        await other_process.dispose()

    assert sorted(result.image.seed for result in results) == list(range(20))
    stored = await rows(services)
    for size, (name, served) in enumerate(capacity.items(), start=1):
        assert served.fake.in_flight.most <= size, name
        assert stored[name].in_flight == 0
        assert stored[name].images_done == served.renders() >= 1
    assert sum(row.images_done for row in stored.values()) == 20
    assert [row.images_failed for row in stored.values()] == [0, 0, 0]
    # A worker that takes one render at a time stands idle between them (its slot goes back and
    # is taken again); the bigger ones always have the next render queued.
    done = {name: row.images_done for name, row in stored.items()}
    assert done["small"] < min(done["medium"], done["large"]), done


async def test_a_burst_fills_the_bigger_workers_with_more_renders(
    services: Services, comfy: Served, a1111: Served, comfy_2: Served
) -> None:
    """Each fake draws one image at a time, as the real servers do, so `max_concurrent` gives a
    worker a queue rather than speed; a burst no bigger than the pool shows each one's share."""
    for served in (comfy, a1111, comfy_2):
        served.fake.render_seconds = 0.3
    workers = [
        comfy.worker("small", max_concurrent=1),
        a1111.worker("medium", max_concurrent=2),
        comfy_2.worker("large", max_concurrent=3),
    ]
    async with pool_of(services, *workers) as pool:
        results = await asyncio.gather(*(pool.render(FOG) for _ in range(6)))

    names = [result.worker_name for result in results]
    assert {name: names.count(name) for name in names} == {"small": 1, "medium": 2, "large": 3}
    stored = await rows(services)
    assert {name: row.images_done for name, row in stored.items()} == {
        "small": 1,
        "medium": 2,
        "large": 3,
    }


async def crash_mid_render(services: Services, pool: ImagePool) -> None:
    """A process takes a slot and dies before it gives it back."""
    async with services.db.transaction() as session:
        assert await repository.take_slot(session, [], pool.lease_seconds) is not None


async def test_a_slot_left_taken_is_waited_for_then_refused(
    services: Services, comfy: Served
) -> None:
    """A crashed process leaves its slot taken; until the slot's time is up, nothing tells it
    from another process's live render, so renders wait for it only as long as a render may
    take."""
    async with pool_of(services, comfy.worker("gpu-1"), image_timeout=0.3) as pool:
        await crash_mid_render(services, pool)
        await pool.sync()

        with pytest.raises(NoImageWorker) as raised:
            await pool.render(FOG)

    assert "every image worker stayed busy for 0.3 s" in raised.value.message
    assert "gpu-1: busy, 1 of 1 renders" in raised.value.message
    assert raised.value.status_code == 503
    assert comfy.renders() == 0


async def test_a_slot_left_taken_past_its_time_is_taken_back(
    services: Services, comfy: Served
) -> None:
    async with pool_of(services, comfy.worker("gpu-1"), image_timeout=0.3) as pool:
        await crash_mid_render(services, pool)
        async with services.db.transaction() as session:
            await session.execute(
                update(ImageWorkerSlot).values(expires_at=func.now() - timedelta(seconds=1))
            )

        result = await pool.render(FOG)

    assert result.worker_name == "gpu-1" and comfy.renders() == 1
    assert (await rows(services))["gpu-1"].in_flight == 0, "taken back, then given back"
    async with services.db.sessions() as session:
        assert await session.scalar(select(func.count()).select_from(ImageWorkerSlot)) == 0


async def test_a_render_that_outlived_its_slot_frees_nothing_more(
    services: Services, comfy: Served
) -> None:
    """Its slot was taken back and given to another render: ending, it must not free that one."""
    async with pool_of(services, comfy.worker("gpu-1", max_concurrent=2)) as pool:
        async with services.db.transaction() as session:
            late = await repository.take_slot(session, [], pool.lease_seconds)
            await repository.take_slot(session, [], pool.lease_seconds)
            assert late is not None
            await session.execute(
                update(ImageWorkerSlot)
                .where(ImageWorkerSlot.id == late.lease)
                .values(expires_at=func.now() - timedelta(seconds=1))
            )
        async with services.db.transaction() as session:
            assert await repository.take_back_expired(session) == 1
        async with services.db.transaction() as session:
            await repository.record_success(session, late, 1.0)

    assert (await rows(services))["gpu-1"].in_flight == 1, "the other render still holds one"


# Failover.


@pytest.mark.parametrize(
    ("failing", "behaviour", "words"),
    [
        ("comfy", Fail(500), "queueing the prompt: ComfyUI answered HTTP 500"),
        ("a1111", Fail(500), "CUDA out of memory"),
        ("comfy", CutOff(), "queueing the prompt failed: peer closed connection"),
        ("a1111", CutOff(), "txt2img failed"),
    ],
    ids=["comfyui-500", "a1111-500", "comfyui-connection-drop", "a1111-connection-drop"],
)
async def test_a_failing_worker_s_render_moves_to_another(
    services: Services,
    comfy: Served,
    a1111: Served,
    failing: str,
    behaviour: Any,
    words: str,
) -> None:
    bad, good = (comfy, a1111) if failing == "comfy" else (a1111, comfy)
    bad.fake.script(behaviour)

    async with pool_of(services, bad.worker("bad", priority=0), good.worker("good", 1)) as pool:
        result = await pool.render(FOG)

    assert result.worker_name == "good"
    assert (bad.renders(), good.renders()) == (1, 1)
    stored = await rows(services)
    assert result.worker_id == stored["good"].id
    assert (stored["bad"].images_failed, stored["bad"].consecutive_failures) == (1, 1)
    assert words in (stored["bad"].last_error or "")
    assert stored["bad"].online
    assert (stored["good"].images_done, stored["good"].last_error) == (1, None)
    assert [row.in_flight for row in stored.values()] == [0, 0]


async def test_failures_in_a_row_take_a_worker_offline_until_a_heartbeat(
    services: Services, comfy: Served, a1111: Served
) -> None:
    comfy.fake.script(*[Fail(500)] * OFFLINE_AFTER)

    async with pool_of(services, comfy.worker("flaky"), a1111.worker("steady", 1)) as pool:
        for _ in range(OFFLINE_AFTER):
            assert (await pool.render(FOG)).worker_name == "steady"
        offline = (await rows(services))["flaky"]
        assert (await pool.render(FOG)).worker_name == "steady"
        assert comfy.renders() == OFFLINE_AFTER  # not picked while offline
        beats = await pool.heartbeat()
        back = (await rows(services))["flaky"]
        assert (await pool.render(FOG)).worker_name == "flaky"

    assert not offline.online
    assert (offline.consecutive_failures, offline.images_failed) == (OFFLINE_AFTER, OFFLINE_AFTER)
    assert [(beat.worker_name, beat.ok) for beat in beats] == [("flaky", True), ("steady", True)]
    assert back.online and back.consecutive_failures == 0
    assert back.last_heartbeat_at is not None
    assert (await rows(services))["steady"].images_done == OFFLINE_AFTER + 1


async def test_a_hanging_worker_times_out_and_the_render_moves_on(
    services: Services, comfy: Served, a1111: Served
) -> None:
    a1111.fake.script(Hang(30))

    workers = (a1111.worker("stuck"), comfy.worker("quick", priority=1))
    async with pool_of(services, *workers, image_timeout=0.5) as pool:
        result = await pool.render(FOG)

    assert result.worker_name == "quick"
    stuck = (await rows(services))["stuck"]
    assert "no answer within 0.5 s" in (stuck.last_error or "")
    assert (stuck.images_failed, stuck.consecutive_failures, stuck.in_flight) == (1, 1, 0)


async def test_a_request_every_worker_would_refuse_is_raised_at_once(
    services: Services, comfy: Served, a1111: Served
) -> None:
    refused = FOG.model_copy(update={"sampler": "Euler a"})  # A1111's name; ComfyUI lacks it

    async with pool_of(services, comfy.worker("gpu-1"), a1111.worker("gpu-2", 1)) as pool:
        with pytest.raises(ImageWorkerError) as raised:
            await pool.render(refused)

    assert not isinstance(raised.value, NoImageWorker)
    assert not raised.value.retryable
    assert "Prompt outputs failed validation" in raised.value.message
    assert a1111.renders() == 0
    gpu_1 = (await rows(services))["gpu-1"]
    assert (gpu_1.images_failed, gpu_1.consecutive_failures, gpu_1.online) == (1, 0, True)
    assert gpu_1.in_flight == 0


async def test_a_cancelled_render_gives_its_slot_back(services: Services, comfy: Served) -> None:
    comfy.fake.render_seconds = 10

    async with pool_of(services, comfy.worker("gpu-1")) as pool:
        with pytest.raises(TimeoutError):
            async with asyncio.timeout(0.5):
                await pool.render(FOG)

    assert comfy.renders() == 1
    gpu_1 = (await rows(services))["gpu-1"]
    assert (gpu_1.in_flight, gpu_1.images_failed, gpu_1.images_done) == (0, 0, 0)


# When no worker is left.


async def test_every_worker_offline_is_a_clear_error(services: Services) -> None:
    workers = [
        ImageWorkerConfig(name="gpu-1", api_type="comfyui", api_url=down_url()),
        ImageWorkerConfig(name="gpu-2", api_type="automatic1111", api_url=down_url()),
    ]
    async with pool_of(services, *workers) as pool:
        beats = await pool.heartbeat()
        with pytest.raises(NoImageWorker) as raised:
            await pool.render(FOG)

    assert [beat.ok for beat in beats] == [False, False]
    message = raised.value.message
    assert "no image worker left: each is offline or has failed this render" in message
    assert f"gpu-1: offline: {beats[0].detail}" in message
    assert f"gpu-2: offline: {beats[1].detail}" in message
    assert raised.value.detail["workers"].keys() == {"gpu-1", "gpu-2"}
    assert [row.online for row in (await rows(services)).values()] == [False, False]


async def test_every_worker_failing_the_render_is_a_clear_error(
    services: Services, comfy: Served, a1111: Served
) -> None:
    comfy.fake.script(Fail(500))
    a1111.fake.script(Fail(503))

    async with pool_of(services, comfy.worker("gpu-1"), a1111.worker("gpu-2", 1)) as pool:
        with pytest.raises(NoImageWorker) as raised:
            await pool.render(FOG)

    message = raised.value.message
    assert "gpu-1: failed this render: Image worker " in message
    assert "ComfyUI answered HTTP 500" in message
    assert "Automatic1111 answered HTTP 503" in message
    assert not raised.value.retryable


async def test_no_worker_configured(services: Services) -> None:
    async with pool_of(services) as pool:
        with pytest.raises(NoImageWorker, match="set LUNA_IMAGE_WORKERS"):
            await pool.render(FOG)

    assert not pool.configured


# Settings, heartbeat and the listing.


async def test_sync_marks_workers_that_left_the_settings_unconfigured(
    services: Services, comfy: Served, a1111: Served
) -> None:
    async with pool_of(services, comfy.worker("gpu-1"), a1111.worker("gpu-2", 1)):
        pass
    moved = a1111.worker("gpu-2", max_concurrent=2, priority=5)

    async with pool_of(services, moved) as pool:
        names = [(await pool.render(FOG)).worker_name for _ in range(3)]
        beats = await pool.heartbeat()
        listed = await pool.workers()

    assert pool.configured
    assert names == ["gpu-2"] * 3
    assert comfy.renders() == 0
    assert [beat.worker_name for beat in beats] == ["gpu-2"]
    assert [(w.name, w.configured, w.max_concurrent, w.priority) for w in listed] == [
        ("gpu-2", True, 2, 5),
        ("gpu-1", False, 1, 0),
    ]


async def test_the_listing_shows_load_and_statistics_but_no_password(
    services: Services, comfy: Served
) -> None:
    comfy.fake.render_seconds = 0.1
    guarded = ImageWorkerConfig(
        name="guarded", api_type="comfyui", api_url=down_url().replace("//", "//luna:moonlight@")
    )

    async with pool_of(services, comfy.worker("gpu-1", max_concurrent=2), guarded) as pool:
        await asyncio.gather(pool.render(FOG), pool.render(FOG))
        await pool.heartbeat()
        listed = {worker.name: worker for worker in await pool.workers()}

    gpu_1, locked = listed["gpu-1"], listed["guarded"]
    assert (gpu_1.images_done, gpu_1.in_flight, gpu_1.online) == (2, 0, True)
    assert gpu_1.average_seconds is not None and gpu_1.average_seconds >= 0.1
    assert gpu_1.last_heartbeat_at is not None
    assert not locked.online and locked.average_seconds is None
    assert locked.api_url.startswith("http://luna:***@127.0.0.1:")
    assert locked.last_error is not None and "luna:***@" in locked.last_error
    assert "moonlight" not in "".join(worker.model_dump_json() for worker in listed.values())
