"""The ComfyUI worker client, following shared/protocols/comfyui.md (ComfyUI 0.8.0 as observed).

A render opens `/ws?clientId=<id>` first (ComfyUI sends `executing`/`execution_*` only to the
socket whose id the prompt was posted with), posts `/prompt` with that `client_id`, waits on the
socket for the end-of-prompt marker, reads `/history/{prompt_id}` and downloads the output with
`/view`. Without a socket (refused, or dropped mid-render) it polls `/history/{prompt_id}`, which
is `{}` until the prompt has finished.
"""

from __future__ import annotations

import asyncio
import copy
import json
import logging
import random
import re
import uuid
from collections.abc import Iterator, Mapping
from contextlib import AsyncExitStack
from typing import Any
from urllib.parse import urlencode, urlsplit, urlunsplit

import httpx
from websockets.asyncio.client import ClientConnection, connect
from websockets.exceptions import ConnectionClosed, WebSocketException

from luna_narrates.images.comfyui_workflow import checkpoint_of, fill_workflow
from luna_narrates.images.errors import ImageWorkerError
from luna_narrates.images.http_worker import (
    DEFAULT_TIMEOUT_SECONDS,
    HEALTH_TIMEOUT_SECONDS,
    Drawn,
    HttpWorker,
)
from luna_narrates.images.schemas import RANDOM_SEED, SEED_LIMIT, ImageRequest, WorkerHealth

log = logging.getLogger("luna_narrates")

# Stopping an abandoned prompt is best effort; it must not hold up the error it follows.
CLEANUP_TIMEOUT_SECONDS = 2.0
# Sampler previews arrive as binary frames; they are skipped, but must fit in a frame.
MAX_FRAME_BYTES = 16 * 2**20
MISSING_NODE = re.compile(r"Cannot execute because node .+ does not exist\.")


class ComfyUIClient(HttpWorker):
    """Draws `workflow` (API format, checked here) filled with each request. A prompt given up on
    (timeout, cancellation) is taken off the queue or interrupted, so that it frees the GPU."""

    server = "ComfyUI"

    def __init__(
        self,
        base_url: str,
        workflow: Mapping[str, Any],
        *,
        timeout: float = DEFAULT_TIMEOUT_SECONDS,
        http: httpx.AsyncClient | None = None,
        poll_interval: float = 0.5,
    ) -> None:
        fill_workflow(workflow, ImageRequest(prompt="", seed=0))
        super().__init__(base_url, timeout=timeout, http=http)
        self.workflow = copy.deepcopy(dict(workflow))
        self.poll_interval = poll_interval

    async def _draw(self, request: ImageRequest) -> Drawn:
        seed = random.randrange(SEED_LIMIT) if request.seed == RANDOM_SEED else request.seed
        graph = fill_workflow(self.workflow, request.model_copy(update={"seed": seed}))
        client_id = uuid.uuid4().hex
        async with AsyncExitStack() as stack:
            socket = await self._open_socket(client_id, stack)
            prompt_id, number = await self._queue(graph, client_id)
            try:
                if socket is not None:
                    await self._follow(socket, prompt_id)
                entry = await self._history_entry(prompt_id)
            except BaseException:
                await self._abandon(prompt_id)
                raise
        images = self._output_images(entry)
        png = await self._download(images[0])
        info = {"prompt_id": prompt_id, "number": number, "client_id": client_id, "images": images}
        return png, seed, checkpoint_of(graph), info

    async def _open_socket(self, client_id: str, stack: AsyncExitStack) -> ClientConnection | None:
        split = urlsplit(self.base_url)
        scheme = "wss" if split.scheme == "https" else "ws"
        query = urlencode({"clientId": client_id})
        url = urlunsplit((scheme, split.netloc, split.path + "/ws", query, ""))
        opening = connect(
            url,
            open_timeout=min(self.timeout, HEALTH_TIMEOUT_SECONDS),
            close_timeout=1,
            max_size=MAX_FRAME_BYTES,
        )
        try:
            return await stack.enter_async_context(opening)
        except (OSError, TimeoutError, WebSocketException) as error:
            log.info("ComfyUI at %s: no socket (%s); polling its history", self.base_url, error)
            return None

    async def _queue(self, graph: dict[str, Any], client_id: str) -> tuple[str, int | None]:
        doing = "queueing the prompt"
        body = {"prompt": graph, "client_id": client_id}
        response = await self._call("POST", "/prompt", doing, json=body)
        if response.status_code == 400:
            raise self._rejected(response, graph)
        answer = self._object(response, doing)
        prompt_id = answer.get("prompt_id")
        if not isinstance(prompt_id, str):
            raise self._fail(f"{doing}: ComfyUI answered no prompt_id", retryable=True)
        number = answer.get("number")
        return prompt_id, number if isinstance(number, int) else None

    async def _follow(self, socket: ClientConnection, prompt_id: str) -> None:
        """Returns at the end-of-prompt marker, `executing` with node null, which ComfyUI sends
        after writing the history (`execution_success` and `execution_error` come before it), or
        when the socket drops; the history says how the prompt ended either way."""
        try:
            async for frame in socket:
                data = _message_about(frame, prompt_id)
                if data is None:
                    continue
                kind, body = data
                if kind == "progress":
                    log.debug(
                        "ComfyUI %s: step %s/%s", prompt_id, body.get("value"), body.get("max")
                    )
                elif kind == "executing" and body.get("node") is None:
                    return
        except ConnectionClosed as error:
            log.info("ComfyUI at %s: socket closed (%s); polling its history", self.base_url, error)

    async def _history_entry(self, prompt_id: str) -> dict[str, Any]:
        while True:
            history = await self._get_object(f"/history/{prompt_id}", "reading the history")
            entry = history.get(prompt_id)
            if isinstance(entry, dict):
                return entry
            await asyncio.sleep(self.poll_interval)

    def _output_images(self, entry: Mapping[str, Any]) -> list[dict[str, str]]:
        status = entry.get("status") or {}
        if status.get("status_str") == "error":
            raise self._execution_failure(status.get("messages") or [])
        images = [
            image
            for output in (entry.get("outputs") or {}).values()
            for image in output.get("images", [])
            if isinstance(image, dict) and "filename" in image
        ]
        images.sort(key=lambda image: image.get("type") != "output")  # saved before previews
        if not images:
            problem = "the workflow finished without an image: it needs a SaveImage node"
            raise self._fail(problem, retryable=False)
        return images

    async def _download(self, image: Mapping[str, str]) -> bytes:
        doing = f"downloading {image['filename']}"
        params = {
            "filename": image["filename"],
            "subfolder": image.get("subfolder", ""),
            "type": image.get("type", "output"),
        }
        response = await self._call("GET", "/view", doing, params=params)
        self._check(response, doing)
        return response.content

    async def _abandon(self, prompt_id: str) -> None:
        """Interrupts the prompt if it runs, else takes it off the queue. Only a prompt seen
        running is interrupted: servers older than 0.8 interrupt whatever runs, whatever the id."""
        try:
            async with asyncio.timeout(CLEANUP_TIMEOUT_SECONDS):
                queue = await self._get_object("/queue", "reading the queue")
                running = queue.get("queue_running") or []
                if any(isinstance(item, list) and prompt_id in item[:2] for item in running):
                    body = {"prompt_id": prompt_id}
                    await self._call("POST", "/interrupt", "interrupting", json=body)
                else:
                    await self._call("POST", "/queue", "dequeueing", json={"delete": [prompt_id]})
        except (ImageWorkerError, TimeoutError) as error:
            log.warning("ComfyUI at %s: prompt %s not stopped: %s", self.base_url, prompt_id, error)

    def _rejected(self, response: httpx.Response, graph: Mapping[str, Any]) -> ImageWorkerError:
        """A 400 from /prompt: the top-level `error`, then each node's errors."""
        try:
            body = response.json()
        except ValueError:
            body = None
        if not isinstance(body, dict):
            problem = f"ComfyUI refused the prompt: {self._error_text(response)}"
            return self._fail(problem, retryable=False, status=400)
        raw_error = body.get("error")
        error = raw_error if isinstance(raw_error, dict) else {"message": raw_error}
        node_errors = body.get("node_errors") or {}
        listed = list(_node_errors(node_errors, graph))
        words = [_top_error_words(error)] + [
            f"{_node_name(item, graph)}: {_error_words(item)}" for item in listed
        ]
        problem = "ComfyUI rejected the workflow: " + "; ".join(w for w in words if w)
        lacks = _lacked(error, node_errors)
        if lacks:
            problem += f". This worker lacks {lacks}; another may have it"
        return self._fail(
            problem,
            retryable=lacks is not None,
            status=400,
            error_type=error.get("type"),
            node_errors=listed,
        )

    def _execution_failure(self, messages: list[Any]) -> ImageWorkerError:
        """From the history's messages: an `execution_error` (a node raised) or an
        `execution_interrupted` (someone stopped it)."""
        for message in messages:
            if not (isinstance(message, list) and len(message) == 2):
                continue
            kind, data = message
            if kind == "execution_error":
                exception_type = str(data.get("exception_type"))
                exception = str(data.get("exception_message") or "").strip()[:500]
                node = f"node {data.get('node_id')} ({data.get('node_type')})"
                return self._fail(
                    f"{node} failed: {exception_type}: {exception}",
                    retryable="OutOfMemory" in exception_type,
                    node_id=data.get("node_id"),
                    node_type=data.get("node_type"),
                    exception_type=exception_type,
                )
            if kind == "execution_interrupted":
                problem = f"the prompt was interrupted at node {data.get('node_id')}"
                return self._fail(problem, retryable=True)
        return self._fail("the prompt failed without saying why", retryable=True)

    async def _health(self, seconds: float) -> WorkerHealth:
        stats = await self._get_object("/system_stats", "reading its system stats", seconds=seconds)
        queue = await self._get_object("/queue", "reading its queue", seconds=seconds)
        version = (stats.get("system") or {}).get("comfyui_version", "(version unknown)")
        devices = ", ".join(str(device.get("name")) for device in stats.get("devices") or [])
        running = len(queue.get("queue_running") or [])
        waiting = len(queue.get("queue_pending") or [])
        return WorkerHealth(
            True,
            f"ComfyUI {version} on {devices or 'no device'}: {running} running, {waiting} waiting",
        )


def _message_about(frame: str | bytes, prompt_id: str) -> tuple[str, dict[str, Any]] | None:
    """A text frame's `(type, data)` when it concerns `prompt_id`; binary frames (previews) and
    other prompts' messages are skipped."""
    if isinstance(frame, bytes):
        return None
    try:
        message = json.loads(frame)
        kind, data = message["type"], message["data"]
    except (ValueError, KeyError, TypeError):
        return None
    if not isinstance(data, dict) or data.get("prompt_id") != prompt_id:
        return None
    return str(kind), data


def _node_errors(
    node_errors: Mapping[str, Any], graph: Mapping[str, Any]
) -> Iterator[dict[str, Any]]:
    for node_id, found in node_errors.items():
        class_type = found.get("class_type") or graph.get(node_id, {}).get("class_type")
        for item in found.get("errors", []):
            yield {
                "node_id": node_id,
                "class_type": class_type,
                **{key: item.get(key) for key in ("type", "message", "details")},
            }


def _node_name(item: Mapping[str, Any], graph: Mapping[str, Any]) -> str:
    node_id, class_type = item["node_id"], item["class_type"]
    title = graph.get(node_id, {}).get("_meta", {}).get("title")
    titled = f', "{title}"' if title and title != class_type else ""
    return f"node {node_id} ({class_type}{titled})"


def _error_words(error: Mapping[str, Any]) -> str:
    message = str(error.get("message") or "").strip()
    details = str(error.get("details") or "").strip()
    return f"{message} [{details}]" if details and details != message else message


def _top_error_words(error: Mapping[str, Any]) -> str:
    """Newer servers name the node in `extra_info` (`missing_node_type`); 0.8.0 in `details`."""
    words = _error_words(error)
    extra = error.get("extra_info") or {}
    if extra.get("node_id"):
        words += f" (node {extra['node_id']}, {extra.get('class_type')})"
    return words


def _lacked(error: Mapping[str, Any], node_errors: Mapping[str, Any]) -> str | None:
    """What the worker lacks when that, not the workflow, made it refuse: a node type (a custom
    node not installed: `invalid_prompt` "... does not exist." in 0.8.0, `missing_node_type` in
    later releases) or the checkpoint file (`value_not_in_list` on `ckpt_name`)."""
    if error.get("type") == "missing_node_type" or MISSING_NODE.fullmatch(
        str(error.get("message") or "")
    ):
        return "a node type (a custom node is not installed)"
    errors = [item for found in node_errors.values() for item in found.get("errors", [])]
    if errors and all(
        item.get("type") == "value_not_in_list"
        and (item.get("extra_info") or {}).get("input_name") == "ckpt_name"
        for item in errors
    ):
        return "the checkpoint file"
    return None
