"""The keyword side of retrieval: a BM25 index (``bm25s`` + PyStemmer) derived from the chunks in Chroma.

Why derived, not written by ingest: Chroma is the one source of truth. Ingest, ``pva remove``, another process
or another machine (with a Chroma server) may change the collection; an index built from the store's
chunks can always be checked against it and rebuilt, so keyword hits never name a chunk that
is gone or miss one that was added. Each chunk is indexed as :func:`assistant.text.passage_text`
(heading path, then text), exactly what ingest embeds, so both sides of the hybrid search see the same words.

Build once, reuse everywhere:

* In memory, one index per store (location + collection) in a :class:`BM25Cache`, shared by every thread.
  Before each query a cheap check compares the store's generation marker
  (:func:`assistant.index.store.read_generation`, a tiny file ingest rewrites on every write) and the store's
  chunk count with the values the index was built at.
* On disk, under ``<data dir>/bm25/<collection>/<fingerprint>-v<N>/``, so a new process loads the index
  instead of re-reading and re-tokenising every chunk. The folder is named by the *fingerprint* of the
  collection: a hash of its sorted chunk ids. A chunk id is its document id plus a hash of its heading path
  and text, so the id set fixes the indexed content exactly, and a fingerprint match proves the index is
  current even when the generation marker is missing (a fresh data dir pointed at a Chroma server).
* When the marker or the count changed, the fingerprint decides: same ids (a metadata-only update) keeps
  the index, new ids rebuild it. Every :data:`VERIFY_SECONDS` the fingerprint is also re-checked when the
  cheap signals did not move: a writer on another machine sharing a Chroma server bumps a marker that lives
  in *its* data dir, and replacing chunks one for one leaves the count unchanged, so only the id check sees
  that. Results are hydrated from Chroma by id at query time, so even in that window no deleted chunk is
  ever returned.
"""

from __future__ import annotations

import hashlib
import json
import logging
import os
import shutil
import threading
import time
import uuid
from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path

import bm25s
import numpy as np
import Stemmer

from assistant.config import Settings
from assistant.index.store import Store, read_generation
from assistant.text import SECTION_SEPARATOR, passage_text

log = logging.getLogger(__name__)

FORMAT_VERSION = 3
"""Bumped whenever tokenisation or the saved layout changes, so old folders on disk are ignored."""

TOKEN_PATTERN = r"(?u)\b\w+\b"
"""Single characters count as words: "principle F", "pillar 2" and "Note 06/20" hinge on them."""

VERIFY_SECONDS = 30.0
"""How often (at most) a cached index re-checks the collection's ids when the cheap signals did not move."""

_PAGE = 5000
"""Chunks read from Chroma per ``get`` call while building (keeps one response small on a server)."""

stats: Counter[str] = Counter()
"""How often indexes were ``built`` (read + tokenised), ``loaded`` from disk, ``revalidated`` by id check."""


def _stemmer() -> Stemmer.Stemmer:
    # PyStemmer objects are not thread-safe, and creating one costs little: one per thread.
    stemmer = getattr(_local, "stemmer", None)
    if stemmer is None:
        stemmer = _local.stemmer = Stemmer.Stemmer("english")
    return stemmer


_local = threading.local()


def tokenize_query(query: str) -> list[str]:
    """The stemmed, stop-word-free terms BM25 scores ``query`` by (the index uses the same rules)."""
    tokens = bm25s.tokenize(
        [query],
        token_pattern=TOKEN_PATTERN,
        stopwords="en",
        stemmer=_stemmer(),
        return_ids=False,
        show_progress=False,
    )[0]
    return [t for t in tokens if t]


HEADING_WEIGHT = 2
"""How many times a chunk's own heading (the last of its heading path) counts: a heading names what its whole
section is about, so "pillar two" should find the section headed "Pillar two" before a long section that
mentions it once. Only the last heading: weighting the whole path would lift every sub-section of "Chapter 1"
above the chapter's own outline chunk for "What sections does chapter 1 contain?"."""


def indexed_text(section: str, text: str) -> str:
    """What BM25 indexes for a chunk: its passage (heading path, then text) with its own heading weighted."""
    if not section:
        return text
    leaf = section.rsplit(SECTION_SEPARATOR, 1)[-1]
    return passage_text("\n".join([section] + [leaf] * (HEADING_WEIGHT - 1)), text)


def fingerprint(ids: Sequence[str]) -> str:
    """A short hash of a set of chunk ids: equal fingerprints mean equal indexed content."""
    return hashlib.sha256("\n".join(sorted(set(ids))).encode("utf-8")).hexdigest()[:16]


@dataclass
class BM25Index:
    """A BM25 index over one snapshot of the collection; immutable once built, so threads share it freely.

    ``generation``, ``count`` and ``verified_at`` record what the snapshot was last checked against; they are
    updated in place (under the cache lock) when a check finds the content unchanged.
    """

    ids: tuple[str, ...]
    doc_ids: np.ndarray
    retriever: bm25s.BM25 | None
    fingerprint: str
    generation: str = ""
    count: int = 0
    verified_at: float = field(default_factory=time.monotonic)

    def __len__(self) -> int:
        return len(self.ids)

    def search(self, query: str, k: int, doc_ids: Sequence[str] | None = None) -> list[tuple[str, float]]:
        """The ``k`` best ``(chunk id, score)`` pairs with a positive score, best first.

        ``doc_ids`` restricts the hits to those documents (a mask over the scores, so the ranking among the
        allowed chunks is exactly the unfiltered one). Scores every chunk with ``get_scores`` rather than
        ``retrieve`` because ``retrieve`` insists on ``k`` ≤ corpus size and pads with zero-score chunks.
        """
        if self.retriever is None or not self.ids or k < 1:
            return []
        tokens = tokenize_query(query)
        if not tokens:
            return []
        scores = np.asarray(self.retriever.get_scores(tokens), dtype=np.float64)
        if doc_ids is not None:
            scores = np.where(np.isin(self.doc_ids, list(doc_ids)), scores, 0.0)
        candidates = np.flatnonzero(scores > 0)
        if len(candidates) > k:
            candidates = candidates[np.argpartition(-scores[candidates], k - 1)[:k]]
        order = candidates[np.lexsort((candidates, -scores[candidates]))]
        return [(self.ids[i], float(scores[i])) for i in order]

    def frequencies(self, query: str) -> dict[str, int]:
        """How many chunks hold each term of ``query`` (stemmed as the index is; 0 for a term it never saw)."""
        terms = tokenize_query(query)
        if self.retriever is None:
            return dict.fromkeys(terms, 0)
        pointers = self.retriever.scores["indptr"]  # a term's column of the sparse score matrix: one row per chunk
        vocabulary = self.retriever.vocab_dict
        found = {}
        for term in terms:
            column = vocabulary.get(term)
            found[term] = 0 if column is None else int(pointers[column + 1] - pointers[column])
        return found


class BM25Cache:
    """The cached index of one store, and the lock that keeps two threads from building it twice.

    One per store location, owned by :class:`~assistant.services.Services`; :meth:`index` keeps it current.
    """

    def __init__(self) -> None:
        self.lock = threading.Lock()
        self.current: BM25Index | None = None

    def index(self, store: Store) -> BM25Index:
        """The BM25 index agreeing with the store's current chunks: cached, else loaded from disk, else built."""
        settings = store.settings
        index = self.current
        if index is not None and _cheap_signals_match(index, store):
            return index
        with self.lock:
            generation, count = read_generation(settings), store.count(max_age=0)
            index = self.current
            fresh = index is not None and time.monotonic() - index.verified_at < VERIFY_SECONDS
            if fresh and index.generation == generation and index.count == count:
                return index  # another thread refreshed it while we waited
            ids = store.all_ids()
            current = fingerprint(ids)
            if index is not None and index.fingerprint == current:
                stats["revalidated"] += 1
            else:
                index = _load(settings, current) or _build(settings, store)
            # The snapshot answers for the signals read *before* its ids: a write racing with us bumps the
            # marker again afterwards, so the next query looks again.
            index.generation, index.count, index.verified_at = generation, len(ids), time.monotonic()
            self.current = index
            return index


def index_dir(settings: Settings) -> Path:
    """Where this collection's BM25 indexes are saved: ``<data dir>/bm25/<collection>``."""
    return settings.data_dir / "bm25" / settings.collection


def _cheap_signals_match(index: BM25Index, store: Store) -> bool:
    if time.monotonic() - index.verified_at >= VERIFY_SECONDS:
        return False
    return index.generation == read_generation(store.settings) and index.count == store.count()


def _folder(settings: Settings, fp: str) -> Path:
    return index_dir(settings) / f"{fp}-v{FORMAT_VERSION}"


def _load(settings: Settings, fp: str) -> BM25Index | None:
    folder = _folder(settings, fp)
    if not (folder / "chunks.json").exists():
        return None
    try:
        meta = json.loads((folder / "chunks.json").read_text(encoding="utf-8"))
        if meta.get("fingerprint") != fp or fingerprint(meta["ids"]) != fp:
            return None
        retriever = bm25s.BM25.load(str(folder), load_corpus=False, show_progress=False) if meta["ids"] else None
    except Exception as exc:  # a half-written or foreign folder: rebuilding is always safe
        log.warning("ignoring unreadable BM25 index at %s (%s); rebuilding", folder, exc)
        return None
    stats["loaded"] += 1
    return BM25Index(tuple(meta["ids"]), np.asarray(meta["doc_ids"], dtype=object), retriever, fp)


def _read_chunks(store: Store) -> tuple[list[str], list[str], list[str]]:
    ids: list[str] = []
    doc_ids: list[str] = []
    texts: list[str] = []
    seen: set[str] = set()
    offset = 0
    while True:
        page = store.get(include=["documents", "metadatas"], limit=_PAGE, offset=offset)
        for chunk_id, text, meta in zip(page.ids, page.documents, page.metadatas, strict=True):
            if chunk_id in seen:  # paging under a concurrent write can repeat a row
                continue
            seen.add(chunk_id)
            meta = meta or {}
            ids.append(chunk_id)
            doc_ids.append(str(meta.get("doc_id", "")))
            section = str(meta.get("section") or "")
            texts.append(indexed_text(section, text or ""))
        if len(page.ids) < _PAGE:
            return ids, doc_ids, texts
        offset += _PAGE


def _build(settings: Settings, store: Store) -> BM25Index:
    ids, doc_ids, texts = _read_chunks(store)
    fp = fingerprint(ids)
    retriever = None
    if ids:
        corpus = bm25s.tokenize(
            texts, token_pattern=TOKEN_PATTERN, stopwords="en", stemmer=_stemmer(), show_progress=False
        )
        retriever = bm25s.BM25()
        retriever.index(corpus, show_progress=False)
    stats["built"] += 1
    index = BM25Index(tuple(ids), np.asarray(doc_ids, dtype=object), retriever, fp)
    try:
        _save(settings, index)
    except Exception as exc:  # saving is an optimisation: a read-only data dir costs a rebuild per process
        log.warning("could not save the BM25 index under %s: %s", index_dir(settings), exc)
    return index


def _save(settings: Settings, index: BM25Index) -> None:
    """Write into a temp folder, then rename it into place: readers never see a half-written index."""
    final = _folder(settings, index.fingerprint)
    if final.exists():
        return
    final.parent.mkdir(parents=True, exist_ok=True)
    tmp = final.parent / f".tmp-{os.getpid()}-{uuid.uuid4().hex[:8]}"
    tmp.mkdir()
    try:
        if index.retriever is not None:
            index.retriever.save(str(tmp), show_progress=False)
        meta = {"fingerprint": index.fingerprint, "ids": list(index.ids), "doc_ids": list(index.doc_ids)}
        (tmp / "chunks.json").write_text(json.dumps(meta), encoding="utf-8")
        os.rename(tmp, final)
    except Exception:
        shutil.rmtree(tmp, ignore_errors=True)
        if not final.exists():  # losing a race to another process that saved the same index is fine
            raise
        return
    # Keep only the newest index (a process still loading an old one falls back to building), and sweep temp
    # folders left by a killed process once they are clearly abandoned.
    for old in final.parent.iterdir():
        if old != final and (not old.name.startswith(".tmp-") or _age_seconds(old) > 3600):
            shutil.rmtree(old, ignore_errors=True)


def _age_seconds(path: Path) -> float:
    try:
        return time.time() - path.stat().st_mtime
    except OSError:  # removed meanwhile by another process
        return 0.0
