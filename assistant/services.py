"""The expensive parts — embedding model, store, BM25 index, verifier, chat models — built once and passed down.

:func:`get_services` gives the :class:`Services` of a ``Settings``, which builds each part on first use. Public
entry points (``ask``, ``search``, ``ingest_paths``...) take ``settings`` and optionally ``services``, and hand
the parts to the layers below. A part is shared by every ``Services`` whose settings agree on what it depends
on (the embedding model by its folder, the store by its location), so settings differing only in ``top_k``
use one loaded model, one store and one write lock. :func:`reset_services` forgets them (tests call it).
"""

from __future__ import annotations

import threading
from collections.abc import Callable
from typing import Any, TypeVar

from langchain_core.language_models.chat_models import BaseChatModel

from assistant.config import Settings, get_settings
from assistant.grounding import GroundingChecker, build_checker, checker_key
from assistant.index.bm25 import BM25Cache, BM25Index
from assistant.index.documents import DocumentTitles
from assistant.index.store import Store, open_store, store_key
from assistant.models.chat import get_chat_model, resolve_backend
from assistant.models.embeddings import SentenceTransformerEmbeddings, VectorCache, embeddings_key, load_embeddings
from assistant.models.staged import StagedEmbeddings

T = TypeVar("T")

MODELS = ("embeddings", "checker")
"""Parts that hold nothing about the data (loaded models and their caches): kept by a default reset."""


_MISSING = object()


class _Shelf:
    """Built parts by key (the part's kind first); each is built once, on first use.

    A part is built under a lock of its own, so opening a slow store never holds up a lookup of another part,
    and building one part may build another (the store needs the embeddings).
    """

    def __init__(self) -> None:
        self._parts: dict[tuple, Any] = {}
        self._building: dict[tuple, threading.Lock] = {}
        self._lock = threading.Lock()

    def get(self, key: tuple, build: Callable[[], T]) -> T:
        part = self._parts.get(key, _MISSING)  # the common case, without a lock: a dict read is atomic
        if part is not _MISSING:
            return part
        with self._lock:
            building = self._building.setdefault(key, threading.Lock())
        with building:
            part = self._parts.get(key, _MISSING)
            if part is _MISSING:
                part = build()
                with self._lock:
                    self._parts[key] = part
            return part

    def forget(self, kinds: Callable[[str], bool]) -> None:
        with self._lock:
            for key in [key for key in self._parts if kinds(key[0])]:
                del self._parts[key]
                self._building.pop(key, None)


_shelf = _Shelf()


class Services:
    """The parts the answer chain, retrieval and ingest need for one ``Settings``."""

    def __init__(self, settings: Settings) -> None:
        self.settings = settings
        self._chat: dict[str, BaseChatModel | None] = {}
        self._chat_lock = threading.Lock()

    @property
    def embeddings(self) -> SentenceTransformerEmbeddings:
        settings = self.settings
        return _shelf.get(("embeddings", *embeddings_key(settings)), lambda: _with_staging(load_embeddings(settings)))

    @property
    def vectors(self) -> VectorCache:
        """The embedding model's cache of vectors (question, sentences, passages)."""
        return self.embeddings.vectors

    @property
    def staged(self) -> StagedEmbeddings:
        """Where the answer chain puts the stored vectors of retrieved chunks for :attr:`vectors` to take."""
        return _staging(self.embeddings)

    @property
    def store(self) -> Store:
        settings = self.settings
        return _shelf.get(("store", *store_key(settings)), lambda: open_store(settings, self.embeddings))

    @property
    def bm25(self) -> BM25Cache:
        """The store's cached BM25 index (see :meth:`bm25_index`)."""
        return _shelf.get(("bm25", *store_key(self.settings)), BM25Cache)

    def bm25_index(self) -> BM25Index:
        """The BM25 index agreeing with the store's current chunks."""
        return self.bm25.index(self.store)

    @property
    def titles(self) -> DocumentTitles:
        """The store's cached document titles (for the refusal message)."""
        return _shelf.get(("titles", *store_key(self.settings)), DocumentTitles)

    @property
    def checker(self) -> GroundingChecker:
        """The sentence verifier; ``ValueError`` for a misconfigured one."""
        settings = self.settings
        key = ("checker", *checker_key(settings), *embeddings_key(settings))
        return _shelf.get(key, lambda: build_checker(settings, lambda: self.embeddings))

    def chat_model(self, backend: str | None = None) -> BaseChatModel | None:
        """The chat model of ``backend`` (default: the configured one), built once; ``None`` for ``extractive``.

        Raises ``ValueError`` for an unknown backend and ``ChatModelError`` for a misconfigured one.
        """
        name = backend if backend is not None else self.settings.chat_backend
        with self._chat_lock:
            if name not in self._chat:
                self._chat[name] = get_chat_model(self.settings, name)
            return self._chat[name]

    def chat(self, backend: str | None = None, llm: BaseChatModel | None = None) -> tuple[str, BaseChatModel | None]:
        """The backend a call runs on and its model: ``llm`` when one is injected (tests), else :meth:`chat_model`."""
        name = resolve_backend(self.settings, backend, llm)
        return name, llm if llm is not None else self.chat_model(name)


def _with_staging(model: SentenceTransformerEmbeddings) -> SentenceTransformerEmbeddings:
    """``model`` whose shared vector cache embeds through a :class:`StagedEmbeddings`: a text staged from the index
    is taken from there, only the others go to the model."""
    model.vectors = VectorCache(StagedEmbeddings(model))
    return model


def _staging(model: SentenceTransformerEmbeddings) -> StagedEmbeddings:
    staged = model.vectors.embeddings
    if not isinstance(staged, StagedEmbeddings):  # pragma: no cover  (every model is built by _with_staging)
        raise TypeError("the embedding model's vector cache does not take stored vectors")
    return staged


_services: dict[Settings, Services] = {}
_services_lock = threading.Lock()


def get_services(settings: Settings) -> Services:
    """The services of ``settings`` (one per distinct settings in this process)."""
    with _services_lock:
        services = _services.get(settings)
        if services is None:
            services = _services[settings] = Services(settings)
        return services


def services_for(settings: Settings | None = None, services: Services | None = None) -> Services:
    """``services`` when given, else those of ``settings``, else of the process settings: for public entry points."""
    return services if services is not None else get_services(settings or get_settings())


def forget(*kinds: str) -> None:
    """Drop the built parts of these kinds (``store``, ``bm25``, ``titles``...); the next use builds them again."""
    _shelf.forget(lambda kind: kind in kinds)


def reset_services(models: bool = False) -> None:
    """Forget every Services and the parts tied to data (stores, indexes, chat models); with ``models`` the loaded
    embedding models and verifiers too."""
    with _services_lock:
        _services.clear()
    _shelf.forget(lambda kind: models or kind not in MODELS)
