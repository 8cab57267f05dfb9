"""A fake of an AUTOMATIC1111 stable-diffusion-webui API (1.6-1.10), as an ASGI app.

It answers as shared/protocols/a1111.md describes the server (read from its source:
`modules/api/api.py`, `modules/api/models.py`, `modules/processing.py`, `modules/shared_state.py`):

- `POST /sdapi/v1/txt2img` blocks until the image is drawn, one request at a time (the server's
  `queue_lock`), and answers `{"images": [base64 PNG], "parameters": {the request, defaults
  filled}, "info": "<JSON string>"}`. `info` carries `seed` (the one used: -1 draws one below
  4294967294, as `get_fixed_seed` does) and `all_seeds`, `sd_model_name` (the bare name),
  `sd_model_hash`, `index_of_first_image`, `infotexts`, ...; each PNG has the infotext in a
  `parameters` tEXt chunk. `override_settings.sd_model_checkpoint` switches the model when a
  checkpoint alias matches (title, file name, bare name, short hash) and is silently dropped
  otherwise (`process_images`: the loaded model draws); the switch is undone afterwards unless
  `override_settings_restore_afterwards` is false.
- Errors as the API words them: 401 `{"detail": "Incorrect username or password"}` with
  `--api-auth` (`auth=`) on every `/sdapi/v1/*` route; FastAPI's 422 `{"detail": [{"type", "loc",
  "msg", "input"}]}` for a field of the wrong type; the exception middleware's
  `{"error", "detail", "body", "errors"}` for 404 "Sampler not found" and for 500s.
- `GET /sdapi/v1/progress` (answers while drawing, with `state.sampling_step`),
  `GET /sdapi/v1/sd-models`, `GET /sdapi/v1/options`, `POST /sdapi/v1/interrupt` (`{}`; the render
  stops and returns what it has).

`in_flight` counts the txt2img requests it holds (waiting for the lock or drawing). A render takes
`render_seconds`, spread over its steps.

Scripted per txt2img request, in order: `Answer()`, `Fail(status, message, error_type)` (500
defaults to a CUDA `OutOfMemoryError`; 422 is worded as FastAPI's validation), `Hang(seconds)`
(no answer, holding the lock, until the client hangs up), `CutOff()` (the answer breaks off).

    fake = FakeA1111(auth=("luna", "secret"), render_seconds=0.1)
    fake.script(Fail(500))
"""

from __future__ import annotations

import asyncio
import base64
import json
import random
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

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

SAMPLERS = ("DPM++ 2M", "DPM++ SDE", "Euler a", "Euler", "LMS", "Heun", "DDIM", "UniPC")
DEFAULTS: dict[str, Any] = {
    "prompt": "",
    "negative_prompt": "",
    "seed": -1,
    "sampler_name": None,
    "batch_size": 1,
    "n_iter": 1,
    "steps": 50,
    "cfg_scale": 7.0,
    "width": 512,
    "height": 512,
    "override_settings": None,
    "override_settings_restore_afterwards": True,
    "send_images": True,
    "save_images": False,
}
FIELD_TYPES: dict[str, tuple[type, ...]] = {
    "prompt": (str,),
    "negative_prompt": (str,),
    "sampler_name": (str,),
    "seed": (int,),
    "batch_size": (int,),
    "n_iter": (int,),
    "steps": (int,),
    "width": (int,),
    "height": (int,),
    "cfg_scale": (int, float),
    "override_settings": (dict,),
    "override_settings_restore_afterwards": (bool,),
    "send_images": (bool,),
    "save_images": (bool,),
}
ERROR_CLASSES = {500: ("OutOfMemoryError", "CUDA out of memory. Tried to allocate 2.00 GiB")}
UNAUTHORISED = {"detail": "Incorrect username or password"}


@dataclass(frozen=True)
class Checkpoint:
    filename: str
    """e.g. `v1-5-pruned-emaonly.safetensors`."""
    shorthash: str

    @property
    def model_name(self) -> str:
        return self.filename.rsplit(".", 1)[0]

    @property
    def title(self) -> str:
        return f"{self.filename} [{self.shorthash}]"

    def aliases(self) -> set[str]:
        return {self.title, self.filename, self.model_name, self.shorthash}


DEFAULT_CHECKPOINTS = (
    Checkpoint("v1-5-pruned-emaonly.safetensors", "6ce0161689"),
    Checkpoint("dreamshaper_8.safetensors", "879db523c3"),
)


class FakeA1111(FakeServer):
    def __init__(
        self,
        *,
        checkpoints: Sequence[Checkpoint] = DEFAULT_CHECKPOINTS,
        auth: tuple[str, str] | None = None,
        render_seconds: float = 0.0,
        version: str = "v1.10.1",
    ) -> None:
        super().__init__()
        self.checkpoints = tuple(checkpoints)
        self.auth = auth
        self.version = version
        self.render_seconds = self._initial_render_seconds = render_seconds
        self.loaded = self.checkpoints[0] if self.checkpoints else None
        self.in_flight = InFlight()
        self._lock = asyncio.Lock()
        self._state = idle_state()
        self._interrupted = asyncio.Event()
        self.app = Starlette(
            routes=[
                Route("/sdapi/v1/txt2img", self._txt2img, methods=["POST"]),
                Route("/sdapi/v1/progress", self._progress, methods=["GET"]),
                Route("/sdapi/v1/sd-models", self._sd_models, methods=["GET"]),
                Route("/sdapi/v1/options", self._options, methods=["GET"]),
                Route("/sdapi/v1/interrupt", self._interrupt, methods=["POST"]),
            ]
        )

    def reset(self) -> None:
        super().reset()
        self.render_seconds = self._initial_render_seconds
        self.loaded = self.checkpoints[0] if self.checkpoints else None
        self.in_flight.reset()

    def find(self, name: str) -> Checkpoint | None:
        return next((c for c in self.checkpoints if name in c.aliases()), None)

    async def _txt2img(self, request: Request) -> Response:
        recorded = await self.record(request)
        if (refusal := self._refuse_auth(request)) is not None:
            return refusal
        body = recorded.body
        if not isinstance(body, dict):
            problem = {"type": "json_invalid", "loc": ["body", 0], "msg": "JSON decode error"}
            return JSONResponse({"detail": [problem]}, status_code=422)
        if problems := list(_type_errors(body)):
            return JSONResponse({"detail": problems}, status_code=422)
        sampler = body.get("sampler_name")
        if sampler and sampler not in SAMPLERS:
            return _api_error(404, "HTTPException", "Sampler not found", "404: Sampler not found")
        with self.in_flight.one():
            async with self._lock:
                behaviour = self.take(recorded)
                if isinstance(behaviour, Hang):
                    await stall(request, behaviour.seconds)
                    if await request.is_disconnected():
                        return Response(status_code=499)
                if isinstance(behaviour, Fail):
                    return _scripted_error(behaviour)
                answer = await self._draw({**DEFAULTS, **body})
        if isinstance(behaviour, CutOff):
            return half_body(json.dumps(answer).encode())
        return JSONResponse(answer)

    async def _draw(self, params: dict[str, Any]) -> dict[str, Any]:
        previous = self.loaded
        wanted = (params.get("override_settings") or {}).get("sd_model_checkpoint")
        if wanted is not None and (switched := self.find(wanted)) is not None:
            self.loaded = switched
        seed = params["seed"] if params["seed"] != -1 else random.randrange(4294967294)
        steps = params["steps"]
        self._interrupted.clear()
        self._state = {**idle_state(), "job": "scripts_txt2img", "job_count": 1}
        self._state["sampling_steps"] = steps
        for step in range(1, steps + 1):
            await asyncio.sleep(self.render_seconds / steps)
            self._state["sampling_step"] = step
            if self._interrupted.is_set():
                break
        self._state = idle_state()
        model = self.loaded
        info = self._info(params, seed, model)
        png = solid_png(
            seed, params["width"], params["height"], {"parameters": info["infotexts"][0]}
        )
        if params["override_settings_restore_afterwards"]:
            self.loaded = previous
        return {
            "images": [base64.b64encode(png).decode()] if params["send_images"] else [],
            "parameters": params,
            "info": json.dumps(info),
        }

    def _info(
        self, params: Mapping[str, Any], seed: int, model: Checkpoint | None
    ) -> dict[str, Any]:
        fields = {
            "Steps": params["steps"],
            "Sampler": params["sampler_name"] or "Euler",
            "CFG scale": params["cfg_scale"],
            "Seed": seed,
            "Size": f"{params['width']}x{params['height']}",
            "Model hash": model.shorthash if model else None,
            "Model": model.model_name if model else None,
            "Version": self.version,
        }
        negative = (
            f"\nNegative prompt: {params['negative_prompt']}" if params["negative_prompt"] else ""
        )
        settings = ", ".join(
            f"{key}: {value}" for key, value in fields.items() if value is not None
        )
        infotext = f"{params['prompt']}{negative}\n{settings}"
        return {
            "prompt": params["prompt"],
            "all_prompts": [params["prompt"]],
            "negative_prompt": params["negative_prompt"],
            "all_negative_prompts": [params["negative_prompt"]],
            "seed": seed,
            "all_seeds": [seed],
            "subseed": seed + 1,
            "all_subseeds": [seed + 1],
            "subseed_strength": 0,
            "width": params["width"],
            "height": params["height"],
            "sampler_name": params["sampler_name"] or "Euler",
            "cfg_scale": params["cfg_scale"],
            "steps": params["steps"],
            "batch_size": 1,
            "restore_faces": False,
            "face_restoration_model": None,
            "sd_model_name": model.model_name if model else None,
            "sd_model_hash": model.shorthash if model else None,
            "sd_vae_name": None,
            "sd_vae_hash": None,
            "seed_resize_from_w": -1,
            "seed_resize_from_h": -1,
            "denoising_strength": None,
            "extra_generation_params": {},
            "index_of_first_image": 0,
            "infotexts": [infotext],
            "styles": [],
            "job_timestamp": "20250101120000",
            "clip_skip": 1,
            "is_using_inpainting_conditioning": False,
            "version": self.version,
        }

    async def _progress(self, request: Request) -> Response:
        await self.record(request)
        if (refusal := self._refuse_auth(request)) is not None:
            return refusal
        state = self._state
        done = state["sampling_step"] / state["sampling_steps"] if state["job_count"] else 0
        progress = min(1.0, 0.01 + done) if state["job_count"] else 0
        answer = {
            "progress": progress,
            "eta_relative": 0,
            "state": dict(state),
            "current_image": None,
            "textinfo": None,
            "current_task": None,
        }
        return JSONResponse(answer)

    async def _sd_models(self, request: Request) -> Response:
        await self.record(request)
        if (refusal := self._refuse_auth(request)) is not None:
            return refusal
        return JSONResponse([_model_entry(checkpoint) for checkpoint in self.checkpoints])

    async def _options(self, request: Request) -> Response:
        await self.record(request)
        if (refusal := self._refuse_auth(request)) is not None:
            return refusal
        title = self.loaded.title if self.loaded else None
        options = {"sd_model_checkpoint": title, "samples_format": "png", "return_grid": True}
        return JSONResponse(options)

    async def _interrupt(self, request: Request) -> Response:
        await self.record(request)
        if (refusal := self._refuse_auth(request)) is not None:
            return refusal
        self._interrupted.set()
        return JSONResponse({})

    def _refuse_auth(self, request: Request) -> Response | None:
        if self.auth is None:
            return None
        expected = "Basic " + base64.b64encode(":".join(self.auth).encode()).decode()
        if request.headers.get("authorization") == expected:
            return None
        return JSONResponse(UNAUTHORISED, status_code=401, headers={"WWW-Authenticate": "Basic"})


def idle_state() -> dict[str, Any]:
    return {
        "skipped": False,
        "interrupted": False,
        "stopping_generation": False,
        "job": "",
        "job_count": 0,
        "job_timestamp": "0",
        "job_no": 0,
        "sampling_step": 0,
        "sampling_steps": 0,
    }


def _model_entry(checkpoint: Checkpoint) -> dict[str, Any]:
    return {
        "title": checkpoint.title,
        "model_name": checkpoint.model_name,
        "hash": checkpoint.shorthash,
        "sha256": checkpoint.shorthash + "0" * 54,
        "filename": f"/srv/webui/models/Stable-diffusion/{checkpoint.filename}",
        "config": None,
    }


def _type_errors(body: Mapping[str, Any]) -> Iterator[dict[str, Any]]:
    """FastAPI's 422 details (pydantic 2) for fields of the wrong type."""
    for name, value in body.items():
        types = FIELD_TYPES.get(name)
        if types is None or value is None:
            continue
        if isinstance(value, bool) and bool not in types:
            wrong = True
        else:
            wrong = not isinstance(value, types)
        if wrong:
            kind = types[0].__name__
            yield {
                "type": f"{kind}_type",
                "loc": ["body", name],
                "msg": f"Input should be a valid {kind}",
                "input": value,
            }


def _api_error(status: int, error: str, detail: str, errors: str) -> Response:
    """The API's exception middleware: `{"error", "detail", "body", "errors"}`."""
    body = {"error": error, "detail": detail, "body": "", "errors": errors}
    return JSONResponse(body, status_code=status)


def _scripted_error(fail: Fail) -> Response:
    if fail.status == 422:
        problem = {"type": fail.error_type or "value_error", "loc": ["body", "width"]}
        problem["msg"] = fail.message or "Value error, width must be a multiple of 8"
        return JSONResponse({"detail": [problem]}, status_code=422)
    if fail.status == 401:
        return JSONResponse({"detail": fail.message or UNAUTHORISED["detail"]}, status_code=401)
    error, errors = ERROR_CLASSES.get(fail.status, ("HTTPException", f"{fail.status}: error"))
    return _api_error(fail.status, fail.error_type or error, "", fail.message or errors)
