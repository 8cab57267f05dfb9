"""A fake of a ComfyUI server (0.8.0), as an ASGI app with its websocket.

It answers as the real ComfyUI 0.8.0 did in shared/protocols/comfyui.md and in that server's
transcript, shared/protocols/comfyui_transcript.jsonl:

- `POST /prompt {"prompt", "client_id"}` → `{"prompt_id", "number", "node_errors": {}}`; `number`
  goes up on every POST, refused ones included, and the prompt runs after the answer. Refusals are
  400s worded as 0.8.0 words them (§5): `no_prompt`; `invalid_prompt` for a node without
  class_type or of an unknown type ("Cannot execute because node X does not exist.", details
  "Node ID '#1'"); `prompt_no_outputs`; `prompt_outputs_failed_validation` with `node_errors`
  (`value_not_in_list` for a checkpoint or sampler it lacks, `value_smaller_than_min`,
  `value_bigger_than_max`, `invalid_input_type`). A body that is not JSON gets aiohttp's 500 page.
- `GET /ws?clientId=` greets with `status` (and `sid`). `execution_start`, `execution_cached`,
  `executing`, `progress`, `executed`, `execution_success` and `execution_error` go only to the
  sockets of the prompt's `client_id` (none for a prompt posted without one); `status`,
  `progress_state` and `execution_interrupted` go to every socket. The end-of-prompt marker
  `executing {"node": null}` follows the history being written; a KSampler sends `progress` per
  step and one binary preview frame (event 1, image type 2 = PNG), as sampler previews come.
- `GET /history/{prompt_id}` is `{}` until the prompt finished, then
  `{id: {"prompt": [number, id, graph, extra, outputs], "outputs", "status", "meta"}}`.
- `GET /view?filename=&subfolder=&type=` the saved PNG (with the graph in a `prompt` tEXt chunk;
  `filename_prefix` "luna/render" saves `luna` / `render_00001_.png`); 404 empty when missing, 400
  for another type or `..` in the name.
- `GET /queue` (`queue_running`, `queue_pending` as `[number, id, graph, extra, outputs]`),
  `POST /queue {"delete": [...]}` or `{"clear": true}` and `POST /interrupt` (an id that is not the
  running prompt's is ignored) answer 200 with an empty body; `GET /system_stats` as recorded.

Like ComfyUI's single prompt worker it draws one prompt at a time; `in_flight` counts the prompts
it holds (waiting or drawing). A render takes `render_seconds`, spread over the KSampler's steps,
and paints `solid_png` in the colour of the KSampler's seed at the EmptyLatentImage's size.

Scripted per `POST /prompt`, in order: `Answer()`, `Reject(...)` (any 400 body; see
`unknown_node_type`, `missing_node_type`), `ExecutionError(...)` (a node raises while drawing),
`DropSocket()` (the prompt's sockets close once it starts), `Fail(status)`, `Hang(seconds)`
(no answer to the POST), `CutOff()` (the POST's answer breaks off; the prompt still runs).

    fake = FakeComfyUI(render_seconds=0.2)
    fake.script(ExecutionError(exception_type="torch.OutOfMemoryError"))
    async with fake.serve() as url:
        ...
"""

from __future__ import annotations

import asyncio
import itertools
import json
import struct
import time
import uuid
from collections.abc import AsyncIterator, Iterator, Mapping, Sequence
from contextlib import asynccontextmanager
from dataclasses import dataclass, field
from http import HTTPStatus
from typing import Any

from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route, WebSocketRoute
from starlette.websockets import WebSocket, WebSocketDisconnect

from tests.fakes.common import (
    CutOff,
    Fail,
    FakeServer,
    Hang,
    InFlight,
    half_body,
    solid_png,
    stall,
)

DEFAULT_CHECKPOINTS = ("v1-5-pruned-emaonly.safetensors",)
SAMPLERS = ("euler", "euler_ancestral", "heun", "dpm_2", "dpmpp_2m", "dpmpp_sde", "ddim", "uni_pc")
NODE_TYPES = frozenset(
    {
        "CheckpointLoaderSimple",
        "CLIPTextEncode",
        "EmptyLatentImage",
        "EmptySD3LatentImage",
        "KSampler",
        "VAEDecode",
        "SaveImage",
        "PreviewImage",
        "EmptyImage",
        "ImageInvert",
    }
)
OUTPUT_NODES = {"SaveImage": "output", "PreviewImage": "temp"}
LIMITS: dict[tuple[str, str], tuple[float, float]] = {
    ("EmptyLatentImage", "width"): (16, 16384),
    ("EmptyLatentImage", "height"): (16, 16384),
    ("KSampler", "seed"): (0, 0xFFFFFFFFFFFFFFFF),
    ("KSampler", "steps"): (1, 10000),
    ("KSampler", "cfg"): (0.0, 100.0),
    ("EmptyImage", "width"): (1, 16384),
    ("EmptyImage", "height"): (1, 16384),
    ("EmptyImage", "batch_size"): (1, 4096),
    ("EmptyImage", "color"): (0, 0xFFFFFF),
}
AIOHTTP_500 = "500 Internal Server Error\n\nServer got itself in trouble"


@dataclass(frozen=True)
class Reject:
    """`POST /prompt` answers 400 with this `error` and `node_errors`."""

    error: Mapping[str, Any]
    node_errors: Mapping[str, Any] = field(default_factory=dict[str, Any])


def unknown_node_type(class_type: str, node_id: str = "1") -> Reject:
    """How 0.8.0 refuses a node type it lacks (a custom node not installed)."""
    message = f"Cannot execute because node {class_type} does not exist."
    return Reject(_error("invalid_prompt", message, f"Node ID '#{node_id}'"))


def missing_node_type(class_type: str, node_id: str, title: str) -> Reject:
    """How later releases word it (comfyui.md §5; not run there)."""
    message = f"Node '{title}' not found. The custom node may not be installed."
    extra = {"node_id": node_id, "class_type": class_type, "node_title": title}
    return Reject(_error("missing_node_type", message, "", extra))


@dataclass(frozen=True)
class ExecutionError:
    """The prompt is accepted, then node `node_id` (the KSampler when `None`) raises."""

    node_id: str | None = None
    exception_type: str = "RuntimeError"
    message: str = "mat1 and mat2 shapes cannot be multiplied (154x2048 and 768x320)"


@dataclass(frozen=True)
class DropSocket:
    """The prompt runs, but the sockets of its client_id close as it starts."""


@dataclass
class Job:
    prompt_id: str
    number: int
    graph: dict[str, Any]
    client_id: str | None
    behaviour: object
    outputs: list[str]
    create_time: int = field(default_factory=lambda: now_ms())
    interrupted: asyncio.Event = field(default_factory=asyncio.Event)
    deleted: bool = False

    def queue_item(self) -> list[Any]:
        extra = {"client_id": self.client_id, "create_time": self.create_time}
        return [self.number, self.prompt_id, self.graph, extra, self.outputs]


class FakeComfyUI(FakeServer):
    def __init__(
        self,
        *,
        checkpoints: Sequence[str] = DEFAULT_CHECKPOINTS,
        render_seconds: float = 0.0,
        websocket: bool = True,
        version: str = "0.8.0",
    ) -> None:
        super().__init__()
        self.checkpoints = tuple(checkpoints)
        self.version = version
        self.render_seconds = self._initial_render_seconds = render_seconds
        self.websocket = self._initial_websocket = websocket
        """False: `/ws` refuses the handshake (403), as behind a proxy that passes no sockets."""
        self.in_flight = InFlight()
        self.sockets_opened: list[str] = []
        self.history: dict[str, dict[str, Any]] = {}
        self.files: dict[tuple[str, str, str], bytes] = {}
        """(type, subfolder, filename) → PNG bytes."""
        self._sockets: dict[str, list[WebSocket]] = {}
        self._numbers = itertools.count()
        self._saved: dict[str, int] = {}
        """The last file number of each filename prefix."""
        self._gpu = asyncio.Lock()
        self._pending: list[Job] = []
        self._running: Job | None = None
        self._tasks: set[asyncio.Task[None]] = set()
        self.app = Starlette(
            routes=[
                Route("/prompt", self._prompt, methods=["POST"]),
                Route("/history/{prompt_id}", self._history, methods=["GET"]),
                Route("/view", self._view, methods=["GET"]),
                Route("/queue", self._queue_endpoint, methods=["GET", "POST"]),
                Route("/interrupt", self._interrupt, methods=["POST"]),
                Route("/system_stats", self._system_stats, methods=["GET"]),
                WebSocketRoute("/ws", self._socket),
            ]
        )

    def reset(self) -> None:
        super().reset()
        for task in self._tasks:
            task.cancel()
        self.render_seconds = self._initial_render_seconds
        self.websocket = self._initial_websocket
        self.sockets_opened.clear()
        self.history.clear()
        self.files.clear()
        self._saved.clear()
        self._pending.clear()
        self.in_flight.reset()

    @asynccontextmanager
    async def serve(self) -> AsyncIterator[str]:
        async with super().serve() as url:
            try:
                yield url
            finally:
                for task in self._tasks:
                    task.cancel()
                await asyncio.gather(*self._tasks, return_exceptions=True)

    def job(self, prompt_id: str) -> Job | None:
        """The prompt waiting or drawing with this id."""
        held = [*self._pending, *([self._running] if self._running else [])]
        return next((job for job in held if job.prompt_id == prompt_id), None)

    # HTTP.

    async def _prompt(self, request: Request) -> Response:
        recorded = await self.record(request)
        number = next(self._numbers)
        if recorded.body is None and recorded.raw_body:
            return Response(AIOHTTP_500, status_code=500, media_type="text/plain")
        behaviour = self.take(recorded)
        if isinstance(behaviour, Hang):
            await stall(request, behaviour.seconds)
            if await request.is_disconnected():
                return Response(status_code=499)
        if isinstance(behaviour, Fail):
            return _aiohttp_error(behaviour.status)
        if isinstance(behaviour, Reject):
            body = {"error": dict(behaviour.error), "node_errors": dict(behaviour.node_errors)}
            return JSONResponse(body, status_code=400)
        body = recorded.body if isinstance(recorded.body, dict) else {}
        if "prompt" not in body:
            no_prompt = _error("no_prompt", "No prompt provided", "No prompt provided")
            return JSONResponse({"error": no_prompt, "node_errors": {}}, status_code=400)
        graph = body["prompt"]
        if (refusal := self._validate(graph)) is not None:
            return refusal
        job = Job(
            prompt_id=str(body.get("prompt_id") or uuid.uuid4()),
            number=number,
            graph=graph,
            client_id=body.get("client_id"),
            behaviour=behaviour,
            outputs=[node_id for node_id, node in graph.items() if is_output(node)],
        )
        self._start(job)
        answer = {"prompt_id": job.prompt_id, "number": number, "node_errors": {}}
        if isinstance(behaviour, CutOff):
            return half_body(json.dumps(answer).encode())
        return JSONResponse(answer)

    async def _history(self, request: Request) -> Response:
        await self.record(request)
        prompt_id = request.path_params["prompt_id"]
        entry = self.history.get(prompt_id)
        return JSONResponse({prompt_id: entry} if entry is not None else {})

    async def _view(self, request: Request) -> Response:
        recorded = await self.record(request)
        filename = recorded.query.get("filename", "")
        subfolder = recorded.query.get("subfolder", "")
        kind = recorded.query.get("type", "output")
        if kind not in ("output", "input", "temp") or ".." in filename:
            return Response(status_code=400)
        data = self.files.get((kind, subfolder, filename))
        if not filename or data is None:
            return Response(status_code=404)
        headers = {"Content-Disposition": f'filename="{filename}"'}
        return Response(data, media_type="image/png", headers=headers)

    async def _queue_endpoint(self, request: Request) -> Response:
        recorded = await self.record(request)
        if request.method == "GET":
            running = [self._running.queue_item()] if self._running else []
            pending = [job.queue_item() for job in self._pending]
            return JSONResponse({"queue_running": running, "queue_pending": pending})
        body = recorded.body if isinstance(recorded.body, dict) else {}
        doomed = set(body.get("delete", []))
        for job in list(self._pending):
            if body.get("clear") or job.prompt_id in doomed:
                job.deleted = True
                self._pending.remove(job)
        return Response(status_code=200)

    async def _interrupt(self, request: Request) -> Response:
        recorded = await self.record(request)
        wanted = recorded.body.get("prompt_id") if isinstance(recorded.body, dict) else None
        if self._running is not None and wanted in (None, self._running.prompt_id):
            self._running.interrupted.set()
        return Response(status_code=200)

    async def _system_stats(self, request: Request) -> Response:
        await self.record(request)
        memory = 25_276_502_016
        system = {"os": "linux", "ram_total": memory, "ram_free": memory, "embedded_python": False}
        system.update(comfyui_version=self.version, pytorch_version="2.14.1+cu130")
        device = {"name": "cpu", "type": "cpu", "index": None, "vram_total": memory}
        return JSONResponse({"system": system, "devices": [device]})

    # Validation, as 0.8.0 words it.

    def _validate(self, graph: Any) -> Response | None:
        if not isinstance(graph, dict):
            graph = {}
        for node_id, node in graph.items():
            class_type = node.get("class_type") if isinstance(node, dict) else None
            if class_type is None:
                message = "Cannot execute because a node is missing the class_type property."
                return _refuse(_error("invalid_prompt", message, f"Node ID '#{node_id}'"))
            if class_type not in NODE_TYPES:
                return _refuse(unknown_node_type(class_type, node_id).error)
        outputs = [node_id for node_id, node in graph.items() if is_output(node)]
        if not outputs:
            return _refuse(_error("prompt_no_outputs", "Prompt has no outputs", ""))
        node_errors = {}
        for node_id, node in graph.items():
            if errors := list(self._input_errors(node)):
                class_type = node["class_type"]
                found = {"errors": errors, "dependent_outputs": outputs, "class_type": class_type}
                node_errors[node_id] = found
        if node_errors:
            message = "Prompt outputs failed validation"
            failed = _error("prompt_outputs_failed_validation", message, "")
            return _refuse(failed, node_errors)
        return None

    def _input_errors(self, node: Mapping[str, Any]) -> Iterator[dict[str, Any]]:
        for name, value in node.get("inputs", {}).items():
            key = (node["class_type"], name)
            if key in LIMITS:
                yield from _range_errors(name, value, *LIMITS[key])
            choices = {
                ("CheckpointLoaderSimple", "ckpt_name"): self.checkpoints,
                ("KSampler", "sampler_name"): SAMPLERS,
            }.get(key)
            if choices is not None and value not in choices:
                yield {
                    "type": "value_not_in_list",
                    "message": "Value not in list",
                    "details": f"{name}: '{value}' not in {list(choices)}",
                    "extra_info": {
                        "input_name": name,
                        "input_config": [list(choices), {}],
                        "received_value": value,
                    },
                }

    # Drawing, one prompt at a time.

    def _start(self, job: Job) -> None:
        self._pending.append(job)
        task = asyncio.create_task(self._run(job))
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)

    async def _run(self, job: Job) -> None:
        with self.in_flight.one():
            await self._broadcast("status", self._status())
            async with self._gpu:
                if job.deleted:
                    return
                self._pending.remove(job)
                self._running = job
                try:
                    await self._execute(job)
                finally:
                    self._running = None
            await self._broadcast("status", self._status())
            await self._send(job.client_id, "executing", {"node": None, "prompt_id": job.prompt_id})

    async def _execute(self, job: Job) -> None:
        """Sends what ComfyUI sends while drawing, then writes the history entry."""
        graph, prompt_id = job.graph, job.prompt_id
        messages: list[list[Any]] = []
        for kind, data in (
            ("execution_start", {"prompt_id": prompt_id, "timestamp": now_ms()}),
            ("execution_cached", {"nodes": [], "prompt_id": prompt_id, "timestamp": now_ms()}),
        ):
            messages.append([kind, data])
            await self._send(job.client_id, kind, data)
        if isinstance(job.behaviour, DropSocket):
            await self._drop_sockets(job.client_id)
        failing = job.behaviour if isinstance(job.behaviour, ExecutionError) else None
        outputs: dict[str, Any] = {}
        executed: list[str] = []
        for node_id in execution_order(graph, job.outputs):
            node = graph[node_id]
            await self._broadcast("progress_state", _progress_state(prompt_id, node_id))
            executing = {"node": node_id, "display_node": node_id, "prompt_id": prompt_id}
            await self._send(job.client_id, "executing", executing)
            if not await self._work(job, node_id, node):
                await self._stopped(job, node_id, executed, messages)
                return
            if failing is not None and node_id == (failing.node_id or _sampler_id(graph)):
                await self._stopped(job, node_id, executed, messages, failing)
                return
            if node["class_type"] in OUTPUT_NODES:
                outputs[node_id] = {"images": [self._save(job, node)]}
                done = {**executing, "output": outputs[node_id]}
                await self._send(job.client_id, "executed", done)
            executed.append(node_id)
        success = {"prompt_id": prompt_id, "timestamp": now_ms()}
        messages.append(["execution_success", success])
        await self._send(job.client_id, "execution_success", success)
        meta = {
            node_id: {
                "node_id": node_id,
                "display_node": node_id,
                "parent_node": None,
                "real_node_id": node_id,
            }
            for node_id in outputs
        }
        self._write_history(job, outputs, "success", messages, meta)

    async def _work(self, job: Job, node_id: str, node: Mapping[str, Any]) -> bool:
        """The node's share of `render_seconds`; false when interrupted."""
        if node["class_type"] != "KSampler":
            return not job.interrupted.is_set()
        steps = int(node["inputs"].get("steps", 1))
        for step in range(1, steps + 1):
            if await _interrupted_within(job, self.render_seconds / steps):
                return False
            progress = {"value": step, "max": steps, "prompt_id": job.prompt_id, "node": node_id}
            await self._send(job.client_id, "progress", progress)
            if step == 1:
                preview = struct.pack(">II", 1, 2) + solid_png(0, 16, 16)
                await self._send_frame(job.client_id, preview)
        return True

    async def _stopped(
        self,
        job: Job,
        node_id: str,
        executed: list[str],
        messages: list[list[Any]],
        failing: ExecutionError | None = None,
    ) -> None:
        """A node raised (`execution_error`, to the prompt's client) or the prompt was
        interrupted (`execution_interrupted`, to every socket); the history records the error."""
        data = {
            "prompt_id": job.prompt_id,
            "node_id": node_id,
            "node_type": job.graph[node_id]["class_type"],
            "executed": executed,
        }
        if failing is None:
            kind = "execution_interrupted"
        else:
            kind = "execution_error"
            data.update(
                exception_message=failing.message,
                exception_type=failing.exception_type,
                traceback=['  File "execution.py", line 510, in execute\n'],
                current_inputs={},
                current_outputs=list(job.graph),
            )
        data["timestamp"] = now_ms()
        messages.append([kind, data])
        if failing is None:
            await self._broadcast(kind, data)
        else:
            await self._send(job.client_id, kind, data)
        self._write_history(job, {}, "error", messages, {})

    def _save(self, job: Job, node: Mapping[str, Any]) -> dict[str, str]:
        kind = OUTPUT_NODES[node["class_type"]]
        prefix = str(node["inputs"].get("filename_prefix", "ComfyUI"))
        subfolder, _, name = (
            prefix.rpartition("/") if kind == "output" else ("", "", "ComfyUI_temp")
        )
        self._saved[prefix] = number = self._saved.get(prefix, 0) + 1
        filename = f"{name}_{number:05}_.png"
        seed, width, height = _drawn(job.graph)
        text = {"prompt": json.dumps(job.graph)}
        self.files[(kind, subfolder, filename)] = solid_png(seed, width, height, text)
        return {"filename": filename, "subfolder": subfolder, "type": kind}

    def _write_history(
        self,
        job: Job,
        outputs: dict[str, Any],
        status: str,
        messages: list[list[Any]],
        meta: dict[str, Any],
    ) -> None:
        completed = status == "success"
        self.history[job.prompt_id] = {
            "prompt": job.queue_item(),
            "outputs": outputs,
            "status": {"status_str": status, "completed": completed, "messages": messages},
            "meta": meta,
        }

    def _status(self) -> dict[str, Any]:
        held = len(self._pending) + (self._running is not None)
        return {"status": {"exec_info": {"queue_remaining": held}}}

    # The websocket.

    async def _socket(self, websocket: WebSocket) -> None:
        if not self.websocket:
            await websocket.close()  # before accepting: the handshake is refused with 403
            return
        client_id = websocket.query_params.get("clientId") or uuid.uuid4().hex
        await websocket.accept()
        self.sockets_opened.append(client_id)
        self._sockets.setdefault(client_id, []).append(websocket)
        try:
            greeting = {**self._status(), "sid": client_id}
            await websocket.send_text(json.dumps({"type": "status", "data": greeting}))
            while True:
                await websocket.receive_text()
        except WebSocketDisconnect:
            pass
        finally:
            self._forget(client_id, websocket)

    async def _send(self, client_id: str | None, kind: str, data: Mapping[str, Any]) -> None:
        if client_id is not None:
            await self._send_frame(client_id, json.dumps({"type": kind, "data": data}))

    async def _broadcast(self, kind: str, data: Mapping[str, Any]) -> None:
        for client_id in list(self._sockets):
            await self._send(client_id, kind, data)

    async def _send_frame(self, client_id: str | None, frame: str | bytes) -> None:
        for websocket in list(self._sockets.get(client_id or "", [])):
            try:
                if isinstance(frame, bytes):
                    await websocket.send_bytes(frame)
                else:
                    await websocket.send_text(frame)
            except Exception:  # the client went away; its handler forgets it
                self._forget(client_id or "", websocket)

    async def _drop_sockets(self, client_id: str | None) -> None:
        for websocket in list(self._sockets.get(client_id or "", [])):
            self._forget(client_id or "", websocket)
            await websocket.close(code=1011)

    def _forget(self, client_id: str, websocket: WebSocket) -> None:
        sockets = self._sockets.get(client_id, [])
        if websocket in sockets:
            sockets.remove(websocket)
        if not sockets:
            self._sockets.pop(client_id, None)


def now_ms() -> int:
    return int(time.time() * 1000)


def is_output(node: Any) -> bool:
    return isinstance(node, dict) and node.get("class_type") in OUTPUT_NODES


def is_link(value: Any) -> bool:
    return isinstance(value, list) and len(value) == 2 and isinstance(value[1], int)


def execution_order(graph: Mapping[str, Any], outputs: Sequence[str]) -> list[str]:
    """The nodes the outputs need, each after the nodes it links to."""
    order: list[str] = []

    def visit(node_id: str) -> None:
        if node_id in order or node_id not in graph:
            return
        for value in graph[node_id].get("inputs", {}).values():
            if is_link(value):
                visit(str(value[0]))
        order.append(node_id)

    for output in outputs:
        visit(output)
    return order


def _sampler_id(graph: Mapping[str, Any]) -> str | None:
    return next((i for i, node in graph.items() if node["class_type"] == "KSampler"), None)


def _drawn(graph: Mapping[str, Any]) -> tuple[int, int, int]:
    """The seed and size the graph asks for: the KSampler's seed and the latent's size, or the
    weightless workflow's EmptyImage colour (as the seed) and size."""
    inputs = {node["class_type"]: node.get("inputs", {}) for node in graph.values()}
    empty = inputs.get("EmptyImage", {})
    latent = inputs.get("EmptyLatentImage") or inputs.get("EmptySD3LatentImage") or empty
    seed = int(inputs.get("KSampler", {}).get("seed", empty.get("color", 0)))
    return seed, int(latent.get("width", 512)), int(latent.get("height", 512))


async def _interrupted_within(job: Job, seconds: float) -> bool:
    try:
        await asyncio.wait_for(job.interrupted.wait(), timeout=seconds)
    except TimeoutError:
        return False
    return True


def _range_errors(name: str, value: Any, low: float, high: float) -> Iterator[dict[str, Any]]:
    kind = "FLOAT" if isinstance(low, float) else "INT"
    if isinstance(value, bool) or not isinstance(value, int | float):
        message = f"Failed to convert an input value to a {kind} value"
        yield {"type": "invalid_input_type", "message": message, "details": f"{name}, {value}"}
        return
    if low <= value <= high:
        return
    too_small = value < low
    config = [kind, {"min": low, "max": high}]
    yield {
        "type": "value_smaller_than_min" if too_small else "value_bigger_than_max",
        "message": f"Value {value} smaller than min of {low}"
        if too_small
        else f"Value {value} bigger than max of {high}",
        "details": name,
        "extra_info": {"input_name": name, "input_config": config, "received_value": value},
    }


def _progress_state(prompt_id: str, node_id: str) -> dict[str, Any]:
    state = {
        "value": 0.0,
        "max": 1.0,
        "state": "running",
        "node_id": node_id,
        "prompt_id": prompt_id,
        "display_node_id": node_id,
        "parent_node_id": None,
        "real_node_id": node_id,
    }
    return {"prompt_id": prompt_id, "nodes": {node_id: state}}


def _error(
    kind: str, message: str, details: str, extra: Mapping[str, Any] | None = None
) -> dict[str, Any]:
    return {"type": kind, "message": message, "details": details, "extra_info": dict(extra or {})}


def _refuse(error: Mapping[str, Any], node_errors: Mapping[str, Any] | None = None) -> Response:
    body = {"error": dict(error), "node_errors": dict(node_errors or {})}
    return JSONResponse(body, status_code=400)


def _aiohttp_error(status: int) -> Response:
    if status == 500:
        return Response(AIOHTTP_500, status_code=500, media_type="text/plain")
    return Response(f"{status}: {HTTPStatus(status).phrase}", status_code=status)
