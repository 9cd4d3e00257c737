"""An embedding model that first hands out vectors staged for it, and embeds only the texts it was not given.

The index stores the vectors of every text the answer path compares with a question (computed at ingest); the
answer chain stages those of the retrieved chunks here, and the shared vector cache, which embeds through this
object, takes them instead of running the model. A staged vector is handed over once (the cache keeps it from
then on); the least recently staged go first when more than ``maxsize`` wait.
"""

from __future__ import annotations

import threading
from collections import OrderedDict
from collections.abc import Sequence

import numpy as np
from langchain_core.embeddings import Embeddings


class StagedEmbeddings(Embeddings):
    """``model``, except that texts staged with :meth:`stage` get their stored vector without being embedded."""

    def __init__(self, model: Embeddings, maxsize: int = 16384) -> None:
        self.model = model
        self.maxsize = maxsize
        self._staged: OrderedDict[str, np.ndarray] = OrderedDict()
        self._lock = threading.Lock()

    def stage(self, texts: Sequence[str], vectors: np.ndarray) -> None:
        """Keep ``vectors`` (one row per text, as ``model`` would embed them) for the next request of ``texts``."""
        with self._lock:
            for text, vector in zip(texts, vectors, strict=True):
                self._staged[text] = vector
                self._staged.move_to_end(text)
            while len(self._staged) > self.maxsize:
                self._staged.popitem(last=False)

    def embed_documents(self, texts: list[str]) -> list[list[float]]:
        with self._lock:
            found = {text: self._staged.pop(text) for text in dict.fromkeys(texts) if text in self._staged}
        rest = list(dict.fromkeys(text for text in texts if text not in found))
        fresh = dict(zip(rest, self.model.embed_documents(rest), strict=True)) if rest else {}
        return [found[text].tolist() if text in found else fresh[text] for text in texts]

    def embed_query(self, text: str) -> list[float]:
        return self.embed_documents([text])[0]
