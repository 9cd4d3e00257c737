"""A sentence-transformers model run by onnxruntime + tokenizers, so embedding never imports PyTorch.

The model is exported once (:mod:`assistant.models.onnx_export`) into ``<cache>/<digest>/``, where the digest
hashes the model folder's files: another model, or a changed one, gets its own export. The export is written in a
temporary folder and renamed into place, so an interrupted export is never read. Encoding repeats the
sentence-transformers pipeline: truncate to ``max_seq_length``, run, pool with the attention mask, L2-normalise.
"""

from __future__ import annotations

import hashlib
import json
import os
import shutil
import subprocess
import sys
import uuid
from collections.abc import Callable, Sequence
from pathlib import Path

import numpy as np
import onnxruntime
from tokenizers import Encoding, Tokenizer

MODEL_FILE = "model.onnx"
TOKENIZER_FILE = "tokenizer.json"
PIPELINE_FILE = "pipeline.json"
EXPORT_FILES = (MODEL_FILE, TOKENIZER_FILE, PIPELINE_FILE)
DIGESTS_FILE = "digests.json"
EXPORT_FORMAT = 2
"""Part of each export's folder name: raise it when the export changes, so exports made before are not used."""

Exporter = Callable[[Path, Path], None]
"""Writes the export files of the model at the first path into the folder at the second."""


class ExportError(RuntimeError):
    """The model could not be exported to ONNX."""


def export_in_subprocess(model_path: Path, target: Path) -> None:
    """Export in a child process (:mod:`assistant.models.onnx_export`): PyTorch loads there, and the memory it
    takes goes when the child ends, so even the process that made the export never holds PyTorch."""
    root = str(Path(__file__).resolve().parents[2])  # the folder holding the ``assistant`` package
    env = {**os.environ, "PYTHONPATH": os.pathsep.join(filter(None, [root, os.environ.get("PYTHONPATH")]))}
    argv = [sys.executable, "-m", "assistant.models.onnx_export", str(model_path), str(target)]
    done = subprocess.run(argv, env=env, capture_output=True, text=True, check=False)
    if done.returncode != 0:
        last = (done.stderr.strip().splitlines() or ["no message"])[-1]
        raise ExportError(
            f"exporting the embedding model {model_path} to ONNX failed (exit status {done.returncode}): {last}"
        )


def _scratch(path: Path) -> Path:
    """A new name beside ``path`` for writing it before it is renamed into place."""
    return path.with_name(f"{path.name}.{os.getpid()}-{uuid.uuid4().hex[:8]}.tmp")


def _write_atomically(path: Path, text: str) -> None:
    scratch = _scratch(path)
    scratch.write_text(text, encoding="utf-8")
    os.replace(scratch, path)


def _content_digest(model_path: Path, files: list[Path]) -> str:
    digest = hashlib.sha256()
    for file in files:
        digest.update(file.relative_to(model_path).as_posix().encode() + b"\0")
        with file.open("rb") as handle:
            digest.update(hashlib.file_digest(handle, "sha256").digest())
    return digest.hexdigest()


def model_digest(model_path: Path, cache_dir: Path) -> str:
    """A hash of the files of the model folder.

    Hashing ~90 MB costs a fifth of a second, so the digest is remembered in ``cache_dir`` under the folder's
    file names, sizes and modification times: the folder is read again only when one of those changes.
    """
    files = sorted(path for path in model_path.rglob("*") if path.is_file())
    listing = [str(model_path.resolve())]
    for path in files:
        stat = path.stat()
        listing.append(f"{path.relative_to(model_path).as_posix()}:{stat.st_size}:{stat.st_mtime_ns}")
    stamp = hashlib.sha256("\n".join(listing).encode()).hexdigest()
    known_file = cache_dir / DIGESTS_FILE
    try:
        known = json.loads(known_file.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        known = None
    known = known if isinstance(known, dict) else {}
    digest = known.get(stamp)
    if not isinstance(digest, str):
        digest = known[stamp] = _content_digest(model_path, files)
        try:
            cache_dir.mkdir(parents=True, exist_ok=True)
            _write_atomically(known_file, json.dumps(known, indent=1))
        except OSError:  # a read-only cache still serves its exports; the folder is hashed again next time
            pass
    return digest


def _complete(folder: Path) -> bool:
    return all((folder / name).is_file() for name in EXPORT_FILES)


def ensure_export(model_path: Path, cache_dir: Path, exporter: Exporter | None = None) -> Path:
    """The folder of the model's ONNX export under ``cache_dir``, exported first if it is not there yet
    (by ``exporter``, default :func:`export_in_subprocess`)."""
    target = cache_dir / f"{model_digest(model_path, cache_dir)[:32]}-{EXPORT_FORMAT}"
    if _complete(target):
        return target
    exporter = exporter or export_in_subprocess
    cache_dir.mkdir(parents=True, exist_ok=True)
    scratch = _scratch(target)
    scratch.mkdir()
    try:
        exporter(model_path, scratch)
        if not _complete(scratch):
            raise ExportError(f"the ONNX export of {model_path} left out some of {', '.join(EXPORT_FILES)}")
        try:
            scratch.rename(target)
        except OSError:  # another process finished the same export first
            if not _complete(target):
                raise
    finally:
        shutil.rmtree(scratch, ignore_errors=True)
    return target


def session_options() -> onnxruntime.SessionOptions:
    """How the embedder's session runs: one intra-op thread per core; threads that sleep between batches rather
    than spin (on a shared machine spinning threads take the cores from the other processes, and from each other);
    no memory arena (it keeps the largest batch's buffers for the life of the process, which the app pays in RSS).
    """
    options = onnxruntime.SessionOptions()
    options.intra_op_num_threads = os.cpu_count() or 1
    options.add_session_config_entry("session.intra_op.allow_spinning", "0")
    options.enable_cpu_mem_arena = False
    options.graph_optimization_level = onnxruntime.GraphOptimizationLevel.ORT_ENABLE_ALL
    return options


def pool(hidden: np.ndarray, mask: np.ndarray, mode: str) -> np.ndarray:
    """Sentence vectors from token vectors ``(batch, tokens, dim)``, as sentence-transformers pools, L2-normalised."""
    if mode == "cls":
        vectors = hidden[:, 0]
    elif mode == "max":
        vectors = np.where(mask[..., None] > 0, hidden, -1e9).max(axis=1)
    else:
        weights = mask[..., None].astype(hidden.dtype)
        vectors = (hidden * weights).sum(axis=1) / np.clip(weights.sum(axis=1), 1e-9, None)
    return vectors / np.maximum(np.linalg.norm(vectors, axis=1, keepdims=True), 1e-12)


class OnnxEncoder:
    """An exported model: a session and two tokenizers (one truncates for the model, one counts in full).

    Both tokenizers are set up once and never changed, so threads may share them (a fast tokenizer's
    truncation is state that every call would otherwise set).
    """

    def __init__(self, folder: Path) -> None:
        pipeline = json.loads((folder / PIPELINE_FILE).read_text(encoding="utf-8"))
        self.max_seq_length: int = pipeline["max_seq_length"]
        self.pooling: str = pipeline["pooling"]
        self.lower: bool = pipeline["do_lower_case"]
        self._tokenizer = Tokenizer.from_file(str(folder / TOKENIZER_FILE))
        self._pad_id = (self._tokenizer.padding or {}).get("pad_id", 0)
        self._tokenizer.no_padding()
        self._tokenizer.enable_truncation(self.max_seq_length)
        self._counter = Tokenizer.from_file(str(folder / TOKENIZER_FILE))
        self._counter.no_padding()
        self._counter.no_truncation()
        self._session = onnxruntime.InferenceSession(
            str(folder / MODEL_FILE), session_options(), providers=["CPUExecutionProvider"]
        )
        self._inputs = [node.name for node in self._session.get_inputs()]

    def _prepare(self, text: str) -> str:
        return text.lower() if self.lower else text

    def count_tokens(self, text: str) -> int:
        """Tokens in ``text``, without the special tokens the model adds."""
        return len(self._counter.encode(self._prepare(text), add_special_tokens=False).ids)

    def encode(self, texts: Sequence[str], batch_size: int = 8) -> np.ndarray:
        """Normalised vectors of ``texts``, in batches of similar length (as sentence-transformers sorts them)."""
        encodings = self._tokenizer.encode_batch([self._prepare(text) for text in texts])
        order = sorted(range(len(texts)), key=lambda i: -len(encodings[i].ids))
        rows: list[np.ndarray] = [np.empty(0)] * len(texts)
        for start in range(0, len(order), batch_size):
            batch = order[start : start + batch_size]
            for index, vector in zip(batch, self._run([encodings[i] for i in batch]), strict=True):
                rows[index] = vector
        return np.vstack(rows).astype(np.float32)

    def _run(self, batch: list[Encoding]) -> np.ndarray:
        width = max(len(encoding.ids) for encoding in batch)
        ids = np.full((len(batch), width), self._pad_id, dtype=np.int64)
        mask = np.zeros((len(batch), width), dtype=np.int64)
        types = np.zeros((len(batch), width), dtype=np.int64)
        for row, encoding in enumerate(batch):
            length = len(encoding.ids)
            ids[row, :length], mask[row, :length], types[row, :length] = (
                encoding.ids,
                encoding.attention_mask,
                encoding.type_ids,
            )
        feeds = {"input_ids": ids, "attention_mask": mask, "token_type_ids": types}
        [hidden] = self._session.run(None, {name: feeds[name] for name in self._inputs})
        return pool(hidden, mask, self.pooling)
