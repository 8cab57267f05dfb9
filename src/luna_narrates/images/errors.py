"""Why an image worker did not return an image, and whether another worker may do better."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from luna_narrates.errors import LunaError


class ImageWorkerError(LunaError):
    """A render failed on one worker; the message names the worker and what went wrong.

    `retryable` tells the pool whether the same request may succeed on another worker: true when
    the worker is at fault (unreachable, timed out, a 5xx, out of memory, lacking the checkpoint),
    false when the request or the workflow is (rejected by validation, a 4xx, a node that failed on
    its inputs), since every worker would refuse it alike.
    """

    status_code = 502
    code = "image_worker_error"

    def __init__(self, worker: str, problem: str, *, retryable: bool, **detail: Any) -> None:
        super().__init__(
            f"Image worker {worker}: {problem}", worker=worker, retryable=retryable, **detail
        )
        self.worker = worker
        self.retryable = retryable


class ImageWorkerTimeout(ImageWorkerError):
    status_code = 504
    code = "image_worker_timeout"

    def __init__(self, worker: str, seconds: float, doing: str = "render") -> None:
        super().__init__(
            worker,
            f"no answer within {seconds:g} s ({doing}); the worker may be overloaded or stuck.",
            retryable=True,
            seconds=seconds,
        )


class NoImageWorker(ImageWorkerError):
    """The pool found no worker to render on: none configured, every one offline or already
    failed this request, or every one busy for longer than a render may wait. `workers` maps
    each configured worker's name to why it could not take the render, so that the operator
    knows which to look at; the pool has tried all it could, hence not `retryable`."""

    status_code = 503
    code = "no_image_worker"

    def __init__(self, problem: str, workers: Mapping[str, str]) -> None:
        why = "; ".join(f"{name}: {reason}" for name, reason in workers.items())
        super().__init__(
            "pool", f"{problem} ({why})" if why else problem, retryable=False, workers=dict(workers)
        )
