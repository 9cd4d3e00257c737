"""The ONNX embedder: same vectors as sentence-transformers, no PyTorch on the query path, a safe export cache."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

from assistant.config import Settings
from assistant.models.embeddings import OnnxEmbeddings, SentenceTransformerEmbeddings, load_embeddings
from assistant.models.onnx_embedder import EXPORT_FILES, ExportError, ensure_export, model_digest
from assistant.services import get_services
from assistant.text import split_sentences
from ingest.loaders import load_file
from ingest.splitter import split_markdown

ROOT = Path(__file__).resolve().parents[1]


@pytest.fixture
def onnx(settings: Settings) -> OnnxEmbeddings:
    embeddings = get_services(settings).embeddings
    assert isinstance(embeddings, OnnxEmbeddings)  # the default backend
    return embeddings


@pytest.mark.slow
def test_onnx_vectors_match_sentence_transformers_on_the_corpus(onnx: OnnxEmbeddings) -> None:
    reference = load_embeddings(Settings(embedding_backend="torch"))
    assert isinstance(reference, SentenceTransformerEmbeddings)
    docs = [load_file(path) for path in sorted((ROOT / "corpus").glob("*.md"))]
    chunks = [chunk.embed_text for doc in docs for chunk in split_markdown(doc.text, doc.title, reference.count_tokens)]
    texts = chunks + [sentence for chunk in chunks for sentence in split_sentences(chunk)]  # what the answers embed
    assert len(texts) > 150
    assert [onnx.count_tokens(text) for text in texts] == [reference.count_tokens(text) for text in texts]
    cosines = np.sum(np.asarray(onnx.embed_documents(texts)) * np.asarray(reference.embed_documents(texts)), axis=1)
    worst = int(np.argmin(cosines))
    assert cosines[worst] >= 0.999, texts[worst][:200]


def test_text_past_the_window_is_cut_as_the_model_cuts_it(onnx: OnnxEmbeddings) -> None:
    text = (ROOT / "corpus" / "uk-public-value-framework.md").read_text(encoding="utf-8")[:3000]
    assert onnx.count_tokens(text) > onnx.max_tokens  # counted in full, not cut
    cut, longer = np.asarray(onnx.embed_documents([text, text + " Something else entirely."]))
    assert float(cut @ longer) > 0.9999  # the words past the window change nothing


def test_a_batch_gives_each_text_the_vector_it_gets_alone(onnx: OnnxEmbeddings) -> None:
    texts = ["Why?", "What are the principles of social value in public procurement?", "Value for money."]
    together = np.asarray(onnx.embed_documents(texts))
    alone = np.asarray([onnx.embed_query(text) for text in texts])
    assert np.allclose(np.linalg.norm(together, axis=1), 1.0, atol=1e-5)
    assert np.all(np.sum(together * alone, axis=1) > 0.9999)
    assert float(together[0] @ together[1]) < 0.9  # different texts, different vectors


def test_the_query_path_imports_no_torch(onnx: OnnxEmbeddings, isolated_data_dir: Path) -> None:
    onnx.embed_query("warm up")  # the export exists from here on
    script = (
        "import sys, json\n"
        "from assistant.config import Settings\n"
        "from assistant.services import get_services\n"
        "vector = get_services(Settings()).vectors.get(['What is social value?'])[0]\n"
        "heavy = [m for m in ('torch', 'sentence_transformers', 'transformers') if m in sys.modules]\n"
        "print(json.dumps({'dims': len(vector), 'heavy': heavy}))\n"
    )
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    done = subprocess.run([sys.executable, "-c", script], env=env, capture_output=True, text=True, timeout=300)
    assert done.returncode == 0, done.stderr[-2000:]
    report = json.loads(done.stdout.strip().splitlines()[-1])
    assert report == {"dims": len(onnx.embed_query("x")), "heavy": []}


def test_an_interrupted_export_is_never_used(
    onnx: OnnxEmbeddings, tmp_path: Path, interrupted_export, copying_export
) -> None:
    finished = ensure_export(onnx.model_path, onnx.cache_dir)  # the session's export
    cache = tmp_path / "cache"
    with pytest.raises(OSError, match="No space"):
        ensure_export(onnx.model_path, cache, exporter=interrupted_export)
    assert [p.name for p in cache.iterdir()] == ["digests.json"]  # no folder left, whole or half
    folder = ensure_export(onnx.model_path, cache, exporter=copying_export(finished))
    assert folder.parent == cache and sorted(p.name for p in folder.iterdir()) == sorted(EXPORT_FILES)
    assert ensure_export(onnx.model_path, cache, exporter=interrupted_export) == folder  # found, not exported again
    vectors = OnnxEmbeddings(onnx.model_path, cache).embed_documents(["Social value."])
    assert np.allclose(vectors, onnx.embed_documents(["Social value."]), atol=1e-6)


def test_a_folder_that_is_no_model_fails_to_export_with_the_reason(tmp_path: Path) -> None:
    folder, cache = tmp_path / "notes", tmp_path / "cache"
    folder.mkdir()
    (folder / "readme.txt").write_text("Not a model.")
    with pytest.raises(ExportError, match="notes") as failure:
        ensure_export(folder, cache)
    assert "Traceback" not in str(failure.value)
    assert [p.name for p in cache.iterdir()] == ["digests.json"]


def test_the_export_is_keyed_by_the_model_files_content(tmp_path: Path) -> None:
    model, copy, cache = tmp_path / "model", tmp_path / "copy", tmp_path / "cache"
    for folder in (model, copy):
        (folder / "1_Pooling").mkdir(parents=True)
        (folder / "config.json").write_text('{"hidden_size": 384}')
        (folder / "1_Pooling" / "config.json").write_text('{"pooling_mode_mean_tokens": true}')
    first = model_digest(model, cache)
    assert model_digest(copy, cache) == first  # the same files elsewhere: the same export
    (copy / "config.json").write_text('{"hidden_size": 768}')
    assert model_digest(copy, cache) != first
    (copy / "1_Pooling" / "config.json").rename(copy / "pooling.json")
    (copy / "config.json").write_text('{"hidden_size": 384}')
    assert model_digest(copy, cache) != first  # a file moved is a different model too


def test_the_torch_backend_is_kept_as_the_reference() -> None:
    assert isinstance(load_embeddings(Settings(embedding_backend="torch")), SentenceTransformerEmbeddings)
    assert isinstance(load_embeddings(Settings()), OnnxEmbeddings)
