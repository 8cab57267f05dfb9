"""What both worker clients share: the HTTP client they may own, the bound on a whole render,
and the wording of transport failures and HTTP errors as `ImageWorkerError`."""

from __future__ import annotations

import asyncio
import time
from abc import ABC, abstractmethod
from typing import Any, ClassVar, Self

import httpx

from luna_narrates.formats.png_chunks import PNG_SIGNATURE
from luna_narrates.images.errors import ImageWorkerError, ImageWorkerTimeout
from luna_narrates.images.schemas import ImageRequest, RenderedImage, WorkerHealth
from luna_narrates.kit.images import ImageRefused, as_png, inspect

DEFAULT_TIMEOUT_SECONDS = 300.0
HEALTH_TIMEOUT_SECONDS = 5.0

Drawn = tuple[bytes, int, str | None, dict[str, Any]]
"""What a server gave: the image bytes, the seed, the model and what it said."""


class HttpWorker(ABC):
    """A base for the clients. A subclass draws in `_draw` and checks itself in `_health`;
    `render` bounds the whole render by `timeout` and times it, `health` by a few seconds."""

    server: ClassVar[str]

    def __init__(self, base_url: str, *, timeout: float, http: httpx.AsyncClient | None) -> None:
        self.base_url = base_url.rstrip("/")
        self.timeout = timeout
        self._owns_http = http is None
        self._http = http if http is not None else httpx.AsyncClient(timeout=timeout)

    async def aclose(self) -> None:
        """Closes the HTTP client if this client made it (not one passed in)."""
        if self._owns_http:
            await self._http.aclose()

    async def __aenter__(self) -> Self:
        return self

    async def __aexit__(self, *_: object) -> None:
        await self.aclose()

    async def render(self, request: ImageRequest) -> RenderedImage:
        started = time.perf_counter()
        try:
            async with asyncio.timeout(self.timeout):
                data, seed, model, info = await self._draw(request)
        except TimeoutError:
            raise ImageWorkerTimeout(self.base_url, self.timeout) from None
        return RenderedImage(self._png(data), seed, model, time.perf_counter() - started, info)

    async def health(self) -> WorkerHealth:
        seconds = min(self.timeout, HEALTH_TIMEOUT_SECONDS)
        try:
            async with asyncio.timeout(seconds):
                return await self._health(seconds)
        except TimeoutError:
            return WorkerHealth(
                False, f"{self.server} at {self.base_url}: no answer in {seconds:g} s"
            )
        except ImageWorkerError as error:
            return WorkerHealth(False, error.message)

    @abstractmethod
    async def _draw(self, request: ImageRequest) -> Drawn: ...

    @abstractmethod
    async def _health(self, seconds: float) -> WorkerHealth: ...

    def _fail(self, problem: str, *, retryable: bool, **detail: Any) -> ImageWorkerError:
        return ImageWorkerError(self.base_url, problem, retryable=retryable, **detail)

    async def _call(
        self, method: str, path: str, doing: str, *, seconds: float | None = None, **kwargs: Any
    ) -> httpx.Response:
        """The response, whatever its status; no response at all is an `ImageWorkerError`."""
        seconds = self.timeout if seconds is None else seconds
        try:
            return await self._http.request(method, self.base_url + path, timeout=seconds, **kwargs)
        except httpx.TimeoutException:
            raise ImageWorkerTimeout(self.base_url, seconds, doing) from None
        except httpx.TransportError as error:
            problem = f"{doing} failed: {str(error) or type(error).__name__}"
            raise self._fail(problem, retryable=True) from error

    def _check(self, response: httpx.Response, doing: str) -> None:
        """A 5xx (or 408, 429) is the worker's trouble; another 4xx is the request's."""
        if response.is_success:
            return
        status = response.status_code
        raise self._fail(
            f"{doing}: {self.server} answered HTTP {status}: {self._error_text(response)}",
            retryable=status >= 500 or status in (408, 429),
            status=status,
        )

    def _error_text(self, response: httpx.Response) -> str:
        return " ".join(response.text.split())[:500] or "(an empty body)"

    def _json(self, response: httpx.Response, doing: str) -> Any:
        self._check(response, doing)
        try:
            return response.json()
        except ValueError:
            problem = f"{doing}: {self.server} answered something that is not JSON"
            raise self._fail(problem, retryable=True) from None

    def _object(self, response: httpx.Response, doing: str) -> dict[str, Any]:
        found = self._json(response, doing)
        if not isinstance(found, dict):
            problem = f"{doing}: {self.server} answered JSON that is not an object"
            raise self._fail(problem, retryable=True)
        return found

    async def _get_json(self, path: str, doing: str, **kwargs: Any) -> Any:
        return self._json(await self._call("GET", path, doing, **kwargs), doing)

    async def _get_object(self, path: str, doing: str, **kwargs: Any) -> dict[str, Any]:
        return self._object(await self._call("GET", path, doing, **kwargs), doing)

    def _png(self, data: bytes) -> bytes:
        """The worker's bytes, checked here where they arrive, as PNG (a worker set to save
        JPEG or WebP is re-encoded)."""
        try:
            inspect(data)
        except ImageRefused as error:
            raise self._fail(
                f"the image it returned is unusable: {error}", retryable=True
            ) from None
        return data if data.startswith(PNG_SIGNATURE) else as_png(data)
