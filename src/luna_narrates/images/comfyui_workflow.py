"""ComfyUI workflows in API format (`node id -> {class_type, inputs, _meta}`), and filling one
with a request: prompt, negative prompt, seed, size, steps, cfg, sampler and checkpoint."""

from __future__ import annotations

import copy
import json
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from luna_narrates.images.schemas import ImageRequest

DEFAULT_WORKFLOW = Path(__file__).parent / "workflows" / "txt2img.json"
SAMPLER_CLASSES = ("KSampler",)
LATENT_CLASSES = ("EmptyLatentImage", "EmptySD3LatentImage")
CHECKPOINT_CLASSES = ("CheckpointLoaderSimple",)
TEXT_ENCODER_CLASS = "CLIPTextEncode"


def read_workflow(path: Path = DEFAULT_WORKFLOW) -> dict[str, Any]:
    """The shipped txt2img workflow, or an operator's; checked as `fill_workflow` would."""
    found = json.loads(path.read_text(encoding="utf-8"))
    if not isinstance(found, dict):
        raise ValueError(f"{path} is not a ComfyUI workflow: its JSON is not an object.")
    fill_workflow(found, ImageRequest(prompt="", seed=0))
    return found


def fill_workflow(workflow: Mapping[str, Any], request: ImageRequest) -> dict[str, Any]:
    """A copy of `workflow` that draws `request`.

    Nodes are found by class_type, the two CLIPTextEncode nodes by the KSampler input each feeds
    (`positive`, `negative`), not by their order. A missing or ambiguous node is a ValueError that
    names it. The checkpoint loader is needed only when the request names a checkpoint. The seed
    must be drawn already: ComfyUI's seeds are ≥ 0.
    """
    if request.seed < 0:
        raise ValueError("Draw the seed before filling a workflow: ComfyUI's seeds are ≥ 0.")
    graph = copy.deepcopy(dict(workflow))
    if isinstance(graph.get("nodes"), list):
        raise ValueError(
            "This is a ComfyUI workflow in the UI's format; export it in API format "
            "('Export (API)', formerly 'Save (API Format)') and use that file."
        )
    sampler_id, sampler = only_node(graph, SAMPLER_CLASSES, "the seed, steps and cfg")
    _, latent = only_node(graph, LATENT_CLASSES, "the image size")
    positive = _text_node(graph, sampler_id, sampler, "positive")
    negative = _text_node(graph, sampler_id, sampler, "negative")
    if positive is negative:
        raise ValueError(
            f"One {TEXT_ENCODER_CLASS} feeds both inputs of KSampler {sampler_id}; the workflow "
            "needs one for the prompt and another for the negative prompt."
        )
    sampler["inputs"].update(seed=request.seed, steps=request.steps, cfg=request.cfg)
    if request.sampler is not None:
        sampler["inputs"]["sampler_name"] = request.sampler
    latent["inputs"].update(width=request.width, height=request.height)
    positive["inputs"]["text"] = request.prompt
    negative["inputs"]["text"] = request.negative_prompt
    if request.checkpoint is not None:
        _, loader = only_node(graph, CHECKPOINT_CLASSES, "the checkpoint")
        loader["inputs"]["ckpt_name"] = request.checkpoint
    return graph


def checkpoint_of(graph: Mapping[str, Any]) -> str | None:
    """The checkpoint a filled workflow loads, if it has one loader."""
    try:
        _, loader = only_node(graph, CHECKPOINT_CLASSES, "the checkpoint")
    except ValueError:
        return None
    name = loader["inputs"].get("ckpt_name")
    return name if isinstance(name, str) else None


def only_node(
    graph: Mapping[str, Any], class_types: tuple[str, ...], purpose: str
) -> tuple[str, dict[str, Any]]:
    found = [
        (node_id, node)
        for node_id, node in graph.items()
        if isinstance(node, dict) and node.get("class_type") in class_types
    ]
    names = " or ".join(class_types)
    if not found:
        raise ValueError(f"The workflow has no {names} node; it needs one to set {purpose}.")
    if len(found) > 1:
        ids = ", ".join(node_id for node_id, _ in found)
        raise ValueError(f"The workflow has {len(found)} {names} nodes ({ids}); keep only one.")
    node_id, node = found[0]
    if not isinstance(node.get("inputs"), dict):
        raise ValueError(f"Node {node_id} ({node['class_type']}) of the workflow has no inputs.")
    return node_id, node


def _text_node(
    graph: Mapping[str, Any], sampler_id: str, sampler: Mapping[str, Any], which: str
) -> dict[str, Any]:
    """The CLIPTextEncode linked (`[node id, output index]`) to the KSampler's `which` input."""
    link = sampler["inputs"].get(which)
    if not (isinstance(link, list) and len(link) == 2):
        raise ValueError(f"KSampler {sampler_id} of the workflow has no {which} input link.")
    source_id = str(link[0])
    node = graph.get(source_id)
    if not isinstance(node, dict):
        raise ValueError(
            f"KSampler {sampler_id}'s {which} input links to node {source_id}, "
            "which the workflow lacks."
        )
    if node.get("class_type") != TEXT_ENCODER_CLASS or not isinstance(node.get("inputs"), dict):
        raise ValueError(
            f"KSampler {sampler_id}'s {which} input comes from node {source_id} "
            f"({node.get('class_type')}), not a {TEXT_ENCODER_CLASS}: the {which} prompt is "
            f"written into the {TEXT_ENCODER_CLASS} that feeds the KSampler directly."
        )
    return node
