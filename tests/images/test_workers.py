"""The image-worker clients against fakes of ComfyUI and Automatic1111 that speak their wire
formats (tests/fakes/comfyui.py, tests/fakes/a1111.py): a render gives a PNG of the asked size
and the seed used; failures come back as `ImageWorkerError`s that name the worker and say
whether another worker may do better."""

from __future__ import annotations

import asyncio
import io
import json
import time
from collections.abc import AsyncIterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx
import pytest
from PIL import Image
from websockets.asyncio.client import connect

from luna_narrates.images.workers import (
    DEFAULT_WORKFLOW,
    Automatic1111Client,
    ComfyUIClient,
    ImageRequest,
    ImageWorkerError,
    ImageWorkerTimeout,
    client_for,
    fill_workflow,
    read_workflow,
)
from luna_narrates.kit.serving import free_port
from tests.fakes.a1111 import FakeA1111
from tests.fakes.comfyui import (
    DropSocket,
    ExecutionError,
    FakeComfyUI,
    missing_node_type,
    unknown_node_type,
)
from tests.fakes.common import CutOff, Fail, Hang, seed_colour
from tests.shared_fixtures import SHARED

TRANSCRIPT = (SHARED or Path("/nonexistent")) / "protocols" / "comfyui_transcript.jsonl"
QUICK = 1.0
"""How much longer than its timeout a timed-out render may take to fail."""
LIGHTHOUSE = ImageRequest(
    prompt="a lighthouse at dusk, oil painting",
    negative_prompt="blurry, text",
    width=96,
    height=64,
    steps=4,
    cfg=6.5,
    seed=123456789,
)


def picture(png: bytes) -> Image.Image:
    image = Image.open(io.BytesIO(png))
    assert image.format == "PNG"
    return image


def down_url() -> str:
    return f"http://127.0.0.1:{free_port()}"


async def settled(fake: FakeComfyUI | FakeA1111) -> None:
    """Waits until the fake holds no render, so that none left by a test counts in the next."""
    async with asyncio.timeout(5):
        await fake.in_flight.idle()


# One server of each for the module, reset for each test.

AUTH = ("luna", "moonlight")


@dataclass(frozen=True)
class Servers:
    comfy: FakeComfyUI
    comfy_url: str
    a1111: FakeA1111
    a1111_url: str


@pytest.fixture(scope="module")
async def servers() -> AsyncIterator[Servers]:
    comfy, a1111 = FakeComfyUI(), FakeA1111(auth=AUTH)
    async with comfy.serve() as comfy_url, a1111.serve() as a1111_url:
        yield Servers(comfy, comfy_url, a1111, a1111_url)


@pytest.fixture
def comfy(servers: Servers) -> FakeComfyUI:
    servers.comfy.reset()
    return servers.comfy


@pytest.fixture
def a1111(servers: Servers) -> FakeA1111:
    servers.a1111.reset()
    return servers.a1111


@pytest.fixture
async def comfy_client(servers: Servers) -> AsyncIterator[ComfyUIClient]:
    workflow = read_workflow()
    async with ComfyUIClient(servers.comfy_url, workflow, timeout=10, poll_interval=0.02) as c:
        yield c


@pytest.fixture
async def a1111_client(servers: Servers) -> AsyncIterator[Automatic1111Client]:
    async with Automatic1111Client(servers.a1111_url, timeout=10, auth=AUTH) as client:
        yield client


# ComfyUI: rendering.


async def test_comfyui_renders_a_png_of_the_asked_size_and_seed(
    comfy: FakeComfyUI, comfy_client: ComfyUIClient
) -> None:
    image = await comfy_client.render(LIGHTHOUSE)

    drawn = picture(image.png)
    assert drawn.size == (96, 64)
    assert drawn.getpixel((0, 0)) == seed_colour(123456789)
    assert image.seed == 123456789
    assert image.model == "v1-5-pruned-emaonly.safetensors"
    assert image.worker_info["images"] == [
        {"filename": "render_00001_.png", "subfolder": "luna", "type": "output"}
    ]
    # Followed over the socket: the history was read once, when the prompt had ended.
    assert comfy.sockets_opened == [image.worker_info["client_id"]]
    assert len([r for r in comfy.requests if r.path.startswith("/history/")]) == 1


async def test_comfyui_receives_the_request_in_the_workflow_s_nodes(
    comfy: FakeComfyUI, comfy_client: ComfyUIClient
) -> None:
    asked = LIGHTHOUSE.model_copy(
        update={"checkpoint": "v1-5-pruned-emaonly.safetensors", "sampler": "dpmpp_2m"}
    )
    image = await comfy_client.render(asked)

    (posted,) = comfy.requests_to("/prompt")
    assert posted.body["client_id"] == image.worker_info["client_id"]
    graph = posted.body["prompt"]
    sampler = graph["3"]["inputs"]
    assert (sampler["seed"], sampler["steps"], sampler["cfg"]) == (123456789, 4, 6.5)
    assert sampler["sampler_name"] == "dpmpp_2m"
    assert graph["6"]["inputs"]["text"] == "a lighthouse at dusk, oil painting"
    assert graph["7"]["inputs"]["text"] == "blurry, text"
    assert (graph["5"]["inputs"]["width"], graph["5"]["inputs"]["height"]) == (96, 64)
    assert graph["4"]["inputs"]["ckpt_name"] == "v1-5-pruned-emaonly.safetensors"
    assert graph["6"]["_meta"]["title"] == "Positive prompt"


async def test_comfyui_draws_a_seed_when_asked_for_a_random_one(
    comfy: FakeComfyUI, comfy_client: ComfyUIClient
) -> None:
    image = await comfy_client.render(ImageRequest(prompt="fog", width=32, height=32, steps=1))

    (posted,) = comfy.requests_to("/prompt")
    assert posted.body["prompt"]["3"]["inputs"]["seed"] == image.seed >= 0
    assert picture(image.png).getpixel((0, 0)) == seed_colour(image.seed)


async def test_comfyui_polls_the_history_when_the_socket_is_refused(
    comfy: FakeComfyUI, comfy_client: ComfyUIClient
) -> None:
    comfy.websocket = False
    comfy.render_seconds = 0.2

    image = await comfy_client.render(LIGHTHOUSE)

    assert picture(image.png).size == (96, 64)
    assert comfy.sockets_opened == []
    assert len([r for r in comfy.requests if r.path.startswith("/history/")]) > 1


async def test_comfyui_polls_the_history_when_the_socket_drops_mid_render(
    comfy: FakeComfyUI, comfy_client: ComfyUIClient
) -> None:
    comfy.render_seconds = 0.2
    comfy.script(DropSocket())

    image = await comfy_client.render(LIGHTHOUSE)

    assert image.seed == 123456789
    assert len(comfy.sockets_opened) == 1
    assert len([r for r in comfy.requests if r.path.startswith("/history/")]) > 1


async def test_comfyui_counts_the_renders_it_holds(
    comfy: FakeComfyUI, comfy_client: ComfyUIClient
) -> None:
    comfy.render_seconds = 0.1

    images = await asyncio.gather(
        *(comfy_client.render(LIGHTHOUSE.model_copy(update={"seed": s})) for s in (1, 2, 3))
    )

    assert [image.seed for image in images] == [1, 2, 3]
    assert comfy.in_flight.most == 3
    assert comfy.in_flight.now == 0


# ComfyUI: failures.


async def test_comfyui_node_errors_say_which_node_and_input(
    comfy: FakeComfyUI, comfy_client: ComfyUIClient
) -> None:
    with pytest.raises(ImageWorkerError) as raised:
        await comfy_client.render(LIGHTHOUSE.model_copy(update={"sampler": "Euler a"}))

    error = raised.value
    assert not error.retryable
    assert comfy_client.base_url in error.message
    assert "Prompt outputs failed validation" in error.message
    assert 'node 3 (KSampler, "KSampler")' not in error.message  # a title equal to its type
    assert "node 3 (KSampler): Value not in list [sampler_name: 'Euler a' not in" in error.message
    assert error.detail["node_errors"][0]["node_id"] == "3"
    assert error.detail["error_type"] == "prompt_outputs_failed_validation"
    assert comfy.in_flight.most == 0


@pytest.mark.parametrize(
    ("behaviour", "change", "words", "retryable"),
    [
        (
            None,
            {"checkpoint": "sdxl.safetensors"},
            'node 4 (CheckpointLoaderSimple, "Load Checkpoint"): Value not in list [ckpt_name: '
            "'sdxl.safetensors' not in ['v1-5-pruned-emaonly.safetensors']]. This worker lacks "
            "the checkpoint file; another may have it",
            True,
        ),
        (
            unknown_node_type("FaceDetailer", "12"),
            {},
            "Cannot execute because node FaceDetailer does not exist. [Node ID '#12']. This "
            "worker lacks a node type",
            True,
        ),
        (
            missing_node_type("FaceDetailer", "12", "Detail the face"),
            {},
            "Node 'Detail the face' not found. The custom node may not be installed. "
            "(node 12, FaceDetailer). This worker lacks a node type",
            True,
        ),
        (
            ExecutionError(node_id="8", exception_type="RuntimeError", message="bad VAE"),
            {},
            "node 8 (VAEDecode) failed: RuntimeError: bad VAE",
            False,
        ),
        (
            ExecutionError(exception_type="torch.OutOfMemoryError", message="CUDA OOM"),
            {},
            "node 3 (KSampler) failed: torch.OutOfMemoryError: CUDA OOM",
            True,
        ),
        (Fail(500), {}, "queueing the prompt: ComfyUI answered HTTP 500: 500 Internal", True),
        (CutOff(), {}, "queueing the prompt failed: peer closed connection", True),
    ],
    ids=[
        "lacks-checkpoint",
        "lacks-node-0.8",
        "lacks-node-later",
        "execution-error",
        "out-of-memory",
        "500",
        "connection-drop",
    ],
)
async def test_comfyui_failures_say_what_went_wrong_and_whether_to_retry(
    comfy: FakeComfyUI,
    comfy_client: ComfyUIClient,
    behaviour: Any,
    change: dict[str, Any],
    words: str,
    retryable: bool,
) -> None:
    if behaviour is not None:
        comfy.script(behaviour)

    with pytest.raises(ImageWorkerError) as raised:
        await comfy_client.render(LIGHTHOUSE.model_copy(update=change))

    assert f"Image worker {comfy_client.base_url}: " in raised.value.message
    assert words in raised.value.message
    assert raised.value.retryable is retryable
    assert not isinstance(raised.value, ImageWorkerTimeout)


async def test_comfyui_timeout_stops_the_prompt_on_the_worker(
    servers: Servers, comfy: FakeComfyUI
) -> None:
    comfy.render_seconds = 30
    started = time.perf_counter()

    async with ComfyUIClient(servers.comfy_url, read_workflow(), timeout=0.5) as client:
        with pytest.raises(ImageWorkerTimeout) as raised:
            await client.render(LIGHTHOUSE)

    assert time.perf_counter() - started < 0.5 + QUICK
    assert raised.value.retryable
    assert "no answer within 0.5 s" in raised.value.message
    (interrupt,) = comfy.requests_to("/interrupt")
    (posted,) = comfy.requests_to("/prompt")
    await settled(comfy)
    entry = comfy.history[interrupt.body["prompt_id"]]
    assert entry["status"]["messages"][-1][0] == "execution_interrupted"
    assert posted.body["client_id"] == entry["prompt"][3]["client_id"]


async def test_comfyui_unanswered_prompt_times_out(servers: Servers, comfy: FakeComfyUI) -> None:
    comfy.script(Hang(30))

    async with ComfyUIClient(servers.comfy_url, read_workflow(), timeout=0.3) as client:
        with pytest.raises(ImageWorkerTimeout):
            await client.render(LIGHTHOUSE)
    await settled(comfy)


async def test_comfyui_health(comfy: FakeComfyUI, comfy_client: ComfyUIClient) -> None:
    health = await comfy_client.health()

    assert health.ok
    assert health.detail == "ComfyUI 0.8.0 on cpu: 0 running, 0 waiting"


async def test_comfyui_health_of_a_worker_that_is_down() -> None:
    async with ComfyUIClient(down_url(), read_workflow(), timeout=2) as client:
        health = await client.health()
        with pytest.raises(ImageWorkerError) as raised:
            await client.render(LIGHTHOUSE)

    assert not health.ok
    assert client.base_url in health.detail
    assert raised.value.retryable


# The ComfyUI fake against the real server's transcript.


def transcript() -> list[dict[str, Any]]:
    lines = TRANSCRIPT.read_text(encoding="utf-8").splitlines()
    return [json.loads(line) for line in lines if line.strip()]


def without_ids(value: Any) -> Any:
    """The answer less what differs per run: ids, numbers, times, the per-server input specs."""
    varying = {"prompt_id", "number", "timestamp", "sid", "input_config"}
    if isinstance(value, dict):
        return {k: without_ids(v) for k, v in value.items() if k not in varying}
    if isinstance(value, list):
        return [without_ids(item) for item in value]
    return value


def comparable(entry: dict[str, Any]) -> Any:
    """A history entry less its run's number, id and time."""
    _, _, graph, extra, outputs = entry["prompt"]
    return without_ids({**entry, "prompt": [graph, extra["client_id"], outputs]})


@pytest.mark.skipif(not TRANSCRIPT.is_file(), reason="../shared/protocols is not here")
async def test_the_comfyui_fake_answers_the_transcript_s_prompts_as_the_real_server_did(
    servers: Servers, comfy: FakeComfyUI
) -> None:
    recorded = transcript()
    posts = [r for r in recorded if r["kind"] == "http" and r["path"] == "/prompt"]
    real_ws = [r["message"] for r in recorded if r["kind"] == "ws"]
    url = servers.comfy_url
    client_id = posts[0]["request"]["client_id"]

    async with (
        connect(url.replace("http", "ws", 1) + f"/ws?clientId={client_id}") as socket,
        httpx.AsyncClient(base_url=url) as http,
    ):
        for post in posts:
            answer = await http.post("/prompt", json=post["request"])
            assert answer.status_code == post["status"]
            assert without_ids(answer.json()) == without_ids(post["response"])
        fake_ws = [json.loads(await socket.recv())]
        while fake_ws[-1]["type"] != "executing" or fake_ws[-1]["data"]["node"] is not None:
            if isinstance(frame := await socket.recv(), str):
                fake_ws.append(json.loads(frame))
        history = (await http.get(f"/history/{fake_ws[-1]['data']['prompt_id']}")).json()
        (entry,) = history.values()
        image = entry["outputs"]["3"]["images"][0]
        view = await http.get("/view", params=image)
        missing = await http.get("/view", params={"filename": "no_such_file.png", "type": "output"})

    def story(messages: list[dict[str, Any]]) -> list[Any]:
        """What a client reads: the messages but `status` and `progress_state`."""
        skipped = {"status", "progress_state"}
        return [without_ids(m) for m in messages if m["type"] not in skipped]

    assert story(fake_ws) == story(real_ws)
    assert fake_ws[0]["type"] == "status" and fake_ws[0]["data"]["sid"] == client_id
    (real_history,) = [r for r in recorded if r.get("path", "").startswith("/history/")]
    (real_entry,) = real_history["response"].values()
    assert comparable(entry) == comparable(real_entry)
    assert (view.status_code, view.headers["content-type"]) == (200, "image/png")
    assert picture(view.content).size == (85, 52)
    assert (missing.status_code, missing.content) == (404, b"")


# ComfyUI: the workflow.


def test_the_default_workflow_ships_in_the_package() -> None:
    workflow = read_workflow()

    assert DEFAULT_WORKFLOW.name == "txt2img.json"
    classes = {node["class_type"] for node in workflow.values()}
    assert classes == {
        "CheckpointLoaderSimple",
        "CLIPTextEncode",
        "EmptyLatentImage",
        "KSampler",
        "VAEDecode",
        "SaveImage",
    }
    assert all(node["_meta"]["title"] for node in workflow.values())


def test_the_prompts_go_to_the_text_nodes_the_sampler_links_not_by_order() -> None:
    workflow = read_workflow()
    workflow["3"]["inputs"]["positive"], workflow["3"]["inputs"]["negative"] = ["7", 0], ["6", 0]

    graph = fill_workflow(workflow, LIGHTHOUSE)

    assert graph["7"]["inputs"]["text"] == LIGHTHOUSE.prompt
    assert graph["6"]["inputs"]["text"] == LIGHTHOUSE.negative_prompt
    assert workflow["7"]["inputs"]["text"] == ""  # the workflow itself is left alone


def without(workflow: dict[str, Any], class_type: str) -> dict[str, Any]:
    return {i: node for i, node in workflow.items() if node["class_type"] != class_type}


@pytest.mark.parametrize(
    ("change", "words"),
    [
        (lambda w: without(w, "EmptyLatentImage"), "no EmptyLatentImage or EmptySD3LatentImage"),
        (lambda w: without(w, "KSampler"), "no KSampler node"),
        (lambda w: {**w, "10": w["3"]}, "2 KSampler nodes (3, 10)"),
        (lambda w: without(w, "CLIPTextEncode"), "positive input links to node 6, which"),
        (
            lambda w: {**w, "6": {"class_type": "ConditioningCombine", "inputs": {}}},
            "node 6 (ConditioningCombine), not a CLIPTextEncode",
        ),
        (lambda w: {"nodes": [], "links": []}, "UI's format"),
    ],
    ids=["no-latent", "no-sampler", "two-samplers", "no-text", "not-a-text-node", "ui-format"],
)
def test_a_workflow_that_cannot_take_a_request_is_refused(change: Any, words: str) -> None:
    with pytest.raises(ValueError) as raised:
        ComfyUIClient("http://gpu-1:8188", change(read_workflow()))

    assert words in str(raised.value)


def test_a_checkpoint_needs_a_checkpoint_loader() -> None:
    workflow = without(read_workflow(), "CheckpointLoaderSimple")
    fill_workflow(workflow, LIGHTHOUSE)  # the loader is not needed without a checkpoint

    with pytest.raises(ValueError, match="no CheckpointLoaderSimple node"):
        fill_workflow(workflow, LIGHTHOUSE.model_copy(update={"checkpoint": "x.safetensors"}))


# Automatic1111.


async def test_a1111_renders_a_png_and_reads_the_seed_from_info(
    a1111: FakeA1111, a1111_client: Automatic1111Client
) -> None:
    image = await a1111_client.render(LIGHTHOUSE.model_copy(update={"seed": -1}))

    drawn = picture(image.png)
    assert drawn.size == (96, 64)
    assert image.seed >= 0
    assert drawn.getpixel((0, 0)) == seed_colour(image.seed)
    assert image.worker_info["all_seeds"] == [image.seed]
    assert image.model == "v1-5-pruned-emaonly"
    assert f"Seed: {image.seed}" in drawn.info["parameters"]


async def test_a1111_receives_the_request_as_txt2img_fields(
    a1111: FakeA1111, a1111_client: Automatic1111Client
) -> None:
    asked = LIGHTHOUSE.model_copy(update={"sampler": "Euler a", "checkpoint": "dreamshaper_8"})

    image = await a1111_client.render(asked)

    (posted,) = a1111.requests_to("/sdapi/v1/txt2img")
    assert {key: posted.body[key] for key in ("prompt", "negative_prompt", "seed")} == {
        "prompt": "a lighthouse at dusk, oil painting",
        "negative_prompt": "blurry, text",
        "seed": 123456789,
    }
    assert (posted.body["width"], posted.body["height"], posted.body["steps"]) == (96, 64, 4)
    assert (posted.body["cfg_scale"], posted.body["sampler_name"]) == (6.5, "Euler a")
    assert posted.body["override_settings"] == {"sd_model_checkpoint": "dreamshaper_8"}
    assert image.model == "dreamshaper_8"
    assert image.seed == 123456789


async def test_a1111_refused_credentials(servers: Servers, a1111: FakeA1111) -> None:
    async with Automatic1111Client(servers.a1111_url, timeout=5, auth=("luna", "wrong")) as client:
        with pytest.raises(ImageWorkerError) as raised:
            await client.render(LIGHTHOUSE)
        health = await client.health()

    assert not raised.value.retryable
    assert raised.value.detail["status"] == 401
    assert "Incorrect username or password" in raised.value.message
    assert "--api-auth" in raised.value.message
    assert not health.ok


@pytest.mark.parametrize(
    ("behaviour", "change", "words", "retryable"),
    [
        (Fail(500), {}, "HTTP 500: OutOfMemoryError: CUDA out of memory", True),
        (Fail(422, message="Input should be a valid integer"), {}, "body.width: Input", False),
        (CutOff(), {}, "txt2img failed", True),
        (None, {"sampler": "euler"}, "HTTP 404: HTTPException: 404: Sampler not found", False),
        (
            None,
            {"checkpoint": "sdxl_base"},
            "drew with 'v1-5-pruned-emaonly' instead of 'sdxl_base': this worker lacks",
            True,
        ),
    ],
    ids=["500", "422", "connection-drop", "unknown-sampler", "checkpoint-silently-ignored"],
)
async def test_a1111_errors_as_the_api_words_them(
    a1111: FakeA1111,
    a1111_client: Automatic1111Client,
    behaviour: Any,
    change: dict[str, Any],
    words: str,
    retryable: bool,
) -> None:
    if behaviour is not None:
        a1111.script(behaviour)

    with pytest.raises(ImageWorkerError) as raised:
        await a1111_client.render(LIGHTHOUSE.model_copy(update=change))

    assert words in raised.value.message
    assert raised.value.retryable is retryable


async def test_a1111_timeout(servers: Servers, a1111: FakeA1111) -> None:
    a1111.script(Hang(30))
    started = time.perf_counter()

    async with Automatic1111Client(servers.a1111_url, timeout=0.3, auth=AUTH) as c:
        with pytest.raises(ImageWorkerTimeout) as raised:
            await c.render(LIGHTHOUSE)

    assert time.perf_counter() - started < 0.3 + QUICK
    assert raised.value.retryable
    await settled(a1111)


async def test_a1111_renders_one_at_a_time_and_counts_what_it_holds(
    a1111: FakeA1111, a1111_client: Automatic1111Client
) -> None:
    a1111.render_seconds = 0.1
    started = time.perf_counter()

    await asyncio.gather(*(a1111_client.render(LIGHTHOUSE) for _ in range(3)))

    assert a1111.in_flight.most == 3
    assert time.perf_counter() - started >= 0.3


async def test_a1111_health(a1111: FakeA1111, a1111_client: Automatic1111Client) -> None:
    idle = await a1111_client.health()
    a1111.render_seconds = 0.4
    rendering = asyncio.create_task(a1111_client.render(LIGHTHOUSE))
    await asyncio.sleep(0.2)
    busy = await a1111_client.health()
    await rendering

    assert idle.ok
    assert idle.detail == "Automatic1111 with 2 checkpoints, idle"
    assert busy.ok
    assert busy.detail.startswith("Automatic1111 with 2 checkpoints, busy (step ")


async def test_a1111_health_without_checkpoints_or_server() -> None:
    empty = FakeA1111(checkpoints=())
    async with empty.serve() as url, Automatic1111Client(url, timeout=2) as client:
        no_model = await client.health()
    async with Automatic1111Client(down_url(), timeout=2) as client:
        down = await client.health()

    assert not no_model.ok
    assert "no checkpoint" in no_model.detail
    assert not down.ok
    assert "failed" in down.detail


# The factory.


async def test_client_for_each_api() -> None:
    comfy = client_for("comfyui", "http://gpu-1:8188/", timeout=30)
    a1111 = client_for("automatic1111", "http://gpu-2:7860", auth=AUTH)

    assert isinstance(comfy, ComfyUIClient)
    assert comfy.base_url == "http://gpu-1:8188"
    assert comfy.workflow == read_workflow()
    assert isinstance(a1111, Automatic1111Client)
    for client in (comfy, a1111):
        await client.aclose()
    with pytest.raises(ValueError, match="no API authentication"):
        client_for("comfyui", "http://gpu-1:8188", auth=("a", "b"))
    with pytest.raises(ValueError, match="takes no workflow"):
        client_for("automatic1111", "http://gpu-2:7860", workflow=read_workflow())
    with pytest.raises(ValueError, match="Unknown image worker API 'invokeai'"):
        client_for("invokeai", "http://gpu-3:9090")  # type: ignore[arg-type]
