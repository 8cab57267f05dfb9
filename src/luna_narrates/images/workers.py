"""The image workers' interface: what the pool renders with, whichever server runs on the GPU.

    worker = client_for("comfyui", "http://gpu-1:8188", timeout=120)
    image = await worker.render(ImageRequest(prompt="a lighthouse at dusk", seed=7))
    image.png, image.seed, image.model, image.seconds

Everything the pool needs is importable from here; each server's client lives in its own
module (comfyui.py, automatic1111.py).
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any, Literal, Protocol

import httpx

from luna_narrates.images.automatic1111 import Automatic1111Client
from luna_narrates.images.comfyui import ComfyUIClient
from luna_narrates.images.comfyui_workflow import DEFAULT_WORKFLOW, fill_workflow, read_workflow
from luna_narrates.images.errors import ImageWorkerError, ImageWorkerTimeout
from luna_narrates.images.http_worker import DEFAULT_TIMEOUT_SECONDS
from luna_narrates.images.schemas import RANDOM_SEED, ImageRequest, RenderedImage, WorkerHealth

__all__ = [
    "DEFAULT_TIMEOUT_SECONDS",
    "DEFAULT_WORKFLOW",
    "RANDOM_SEED",
    "ApiType",
    "Automatic1111Client",
    "ComfyUIClient",
    "ImageRequest",
    "ImageWorkerClient",
    "ImageWorkerError",
    "ImageWorkerTimeout",
    "RenderedImage",
    "WorkerHealth",
    "client_for",
    "fill_workflow",
    "read_workflow",
]

ApiType = Literal["comfyui", "automatic1111"]


class ImageWorkerClient(Protocol):
    """One GPU worker.

    `render` raises `ImageWorkerError`, whose `retryable` says whether another worker may
    succeed, and `ImageWorkerTimeout` (retryable) once the client's `timeout` bounds the whole
    render. `health` does not raise for a worker that is down or refuses: it says so. `aclose`
    closes the HTTP client the worker made for itself (never one passed in).
    """

    base_url: str

    async def render(self, request: ImageRequest) -> RenderedImage: ...

    async def health(self) -> WorkerHealth: ...

    async def aclose(self) -> None: ...


def client_for(
    api_type: ApiType,
    api_url: str,
    *,
    timeout: float = DEFAULT_TIMEOUT_SECONDS,
    workflow: Mapping[str, Any] | None = None,
    auth: tuple[str, str] | None = None,
    http: httpx.AsyncClient | None = None,
) -> ImageWorkerClient:
    """The client of a configured worker. ComfyUI draws the shipped txt2img workflow unless
    given another (API format); `auth` is A1111's `--api-auth` user and password."""
    if api_type == "comfyui":
        if auth is not None:
            raise ValueError("ComfyUI has no API authentication: give no user and password.")
        chosen = read_workflow() if workflow is None else workflow
        return ComfyUIClient(api_url, chosen, timeout=timeout, http=http)
    if api_type == "automatic1111":
        if workflow is not None:
            raise ValueError("Automatic1111 takes no workflow: a workflow is for ComfyUI.")
        return Automatic1111Client(api_url, timeout=timeout, auth=auth, http=http)
    raise ValueError(f"Unknown image worker API {api_type!r}: use comfyui or automatic1111.")
