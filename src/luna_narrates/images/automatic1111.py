"""The Automatic1111 worker client, following shared/protocols/a1111.md (stable-diffusion-webui
1.6-1.10, read from its source).

`POST /sdapi/v1/txt2img` blocks until the image is drawn (the server renders one request at a
time and has no job id), answers the images in base64 and `info` as JSON inside a JSON string.
With `--api-auth` every `/sdapi/v1/*` route takes HTTP Basic auth.
"""

from __future__ import annotations

import base64
import binascii
import json
import re
from collections.abc import Mapping
from pathlib import PurePosixPath
from typing import Any

import httpx

from luna_narrates.images.http_worker import DEFAULT_TIMEOUT_SECONDS, Drawn, HttpWorker
from luna_narrates.images.schemas import ImageRequest, WorkerHealth

CHECKPOINT_SUFFIXES = (".safetensors", ".ckpt", ".pt", ".bin", ".gguf")
SHORT_HASH = re.compile(r"\s*\[[0-9a-fA-F]+\]$")


def txt2img_payload(request: ImageRequest) -> dict[str, Any]:
    payload: dict[str, Any] = {
        "prompt": request.prompt,
        "negative_prompt": request.negative_prompt,
        "seed": request.seed,
        "width": request.width,
        "height": request.height,
        "steps": request.steps,
        "cfg_scale": request.cfg,
        "batch_size": 1,
        "n_iter": 1,
        "send_images": True,
        "save_images": False,
    }
    if request.sampler is not None:
        payload["sampler_name"] = request.sampler
    if request.checkpoint is not None:
        payload["override_settings"] = {"sd_model_checkpoint": request.checkpoint}
        # Restoring would load the previous model again after every image.
        payload["override_settings_restore_afterwards"] = False
    return payload


class Automatic1111Client(HttpWorker):
    server = "Automatic1111"

    def __init__(
        self,
        base_url: str,
        *,
        timeout: float = DEFAULT_TIMEOUT_SECONDS,
        auth: tuple[str, str] | None = None,
        http: httpx.AsyncClient | None = None,
    ) -> None:
        super().__init__(base_url, timeout=timeout, http=http)
        self._auth = httpx.BasicAuth(*auth) if auth is not None else None

    async def _draw(self, request: ImageRequest) -> Drawn:
        payload = txt2img_payload(request)
        response = await self._call(
            "POST", "/sdapi/v1/txt2img", "txt2img", json=payload, auth=self._auth
        )
        answer = self._object(response, "txt2img")
        info = self._info(answer.get("info"))
        png = self._first_image(answer.get("images"), info)
        seed = info.get("seed", request.seed)
        if not isinstance(seed, int) or seed < 0:
            raise self._fail("txt2img did not say which seed it used", retryable=False)
        model = info.get("sd_model_name")
        if request.checkpoint is not None and not same_checkpoint(request.checkpoint, info):
            # A1111 drops an unknown override checkpoint silently and draws with the loaded one.
            raise self._fail(
                f"it drew with {model!r} instead of {request.checkpoint!r}: this worker lacks "
                "that checkpoint; another may have it",
                retryable=True,
                checkpoint=request.checkpoint,
            )
        return png, seed, model if isinstance(model, str) else None, info

    def _info(self, raw: Any) -> dict[str, Any]:
        """`info` is `json.dumps` of the server's `Processed.js()`: parsed a second time."""
        try:
            info = json.loads(raw) if isinstance(raw, str) else None
        except ValueError:
            info = None
        if not isinstance(info, dict):
            raise self._fail("txt2img answered an `info` that is not a JSON object", retryable=True)
        return info

    def _first_image(self, images: Any, info: Mapping[str, Any]) -> bytes:
        """With `return_grid` on and several images, the grid comes first
        (`index_of_first_image` 1)."""
        first = info.get("index_of_first_image", 0)
        if not isinstance(images, list) or not isinstance(first, int) or len(images) <= first:
            raise self._fail("txt2img answered no image", retryable=True)
        try:
            return base64.b64decode(images[first], validate=True)
        except (binascii.Error, ValueError, TypeError):
            raise self._fail(
                "txt2img answered an image that is not base64", retryable=True
            ) from None

    def _check(self, response: httpx.Response, doing: str) -> None:
        if response.status_code == 401:
            raise self._fail(
                f"{doing}: Automatic1111 refused the credentials ({self._error_text(response)}); "
                "check the user and password given to its --api-auth",
                retryable=False,
                status=401,
            )
        super()._check(response, doing)

    def _error_text(self, response: httpx.Response) -> str:
        """The API's middleware words errors as `{"error", "detail", "body", "errors"}`; FastAPI
        words validation as `{"detail": [{"loc", "msg", "type"}]}`, refused auth as
        `{"detail": "..."}`."""
        try:
            body = response.json()
        except ValueError:
            body = None
        if not isinstance(body, dict):
            return super()._error_text(response)
        if "error" in body:
            return f"{body['error']}: {body.get('errors') or body.get('detail')}"
        detail = body.get("detail")
        if isinstance(detail, list):
            return "; ".join(
                f"{'.'.join(str(part) for part in item.get('loc', []))}: {item.get('msg')}"
                for item in detail
                if isinstance(item, dict)
            )
        return str(detail) if detail is not None else super()._error_text(response)

    async def _health(self, seconds: float) -> WorkerHealth:
        """`/progress` answers even while a render holds the server's lock; `/sd-models` says
        whether there is a checkpoint to draw with. Neither loads a model."""
        asked: dict[str, Any] = {"seconds": seconds, "auth": self._auth}
        progress = await self._get_object(
            "/sdapi/v1/progress?skip_current_image=true", "reading its progress", **asked
        )
        models = await self._get_json("/sdapi/v1/sd-models", "listing its checkpoints", **asked)
        if not models:
            return WorkerHealth(False, f"Automatic1111 at {self.base_url} has no checkpoint")
        state = progress.get("state") or {}
        doing = (
            f"busy (step {state.get('sampling_step')} of {state.get('sampling_steps')})"
            if state.get("job_count")
            else "idle"
        )
        return WorkerHealth(True, f"Automatic1111 with {len(models)} checkpoints, {doing}")


def same_checkpoint(requested: str, info: Mapping[str, Any]) -> bool:
    """A1111 takes a title (`name.safetensors [hash]`), a file name, a bare name or a hash;
    `info` reports the bare name (`sd_model_name`) and the short hash (`sd_model_hash`)."""
    drawn = info.get("sd_model_name")
    if not isinstance(drawn, str):
        return True  # a server that does not say: nothing to compare
    name = PurePosixPath(SHORT_HASH.sub("", requested).replace("\\", "/")).name
    stem = next((name.removesuffix(s) for s in CHECKPOINT_SUFFIXES if name.endswith(s)), name)
    return drawn in (stem, name) or requested == info.get("sd_model_hash")
