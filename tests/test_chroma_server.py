"""Scale-out: the same ingest, hybrid search, BM25 and answers against a Chroma server instead of the embedded store.

One ``chroma run`` subprocess (from the chromadb package) serves the whole module on 127.0.0.1 and a free port,
with its own temp folder; it is stopped at the end even when a test fails. The bundled corpus is ingested into
the server's default collection once; tests that write use a collection of their own.
"""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from pathlib import Path

import chromadb
import pytest

from assistant.answer import ask
from assistant.config import Settings, get_settings
from assistant.index import store as store_module
from assistant.index.store import StoreUnavailableError
from assistant.retrieval import search
from assistant.services import get_services, reset_services
from evals.bench_data import copy_chunks
from evals.processes import chroma_server, free_port
from ingest import ingest_paths, list_documents, remove_document


@pytest.fixture(scope="module")
def chroma_url(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    with chroma_server(tmp_path_factory.mktemp("chroma-server") / "db") as server:
        yield server.url


@pytest.fixture(scope="module")
def server_corpus(chroma_url: str, tmp_path_factory: pytest.TempPathFactory) -> Settings:
    """Settings pointing at the server, whose default collection holds the bundled corpus. Read-only."""
    settings = Settings(data_dir=tmp_path_factory.mktemp("server-client"), chroma_url=chroma_url)
    report = ingest_paths(None, settings)
    assert not report.failed, report.failed
    assert report.total("added") > 0
    return settings


@pytest.fixture
def server_scratch(chroma_url: str, tmp_path: Path) -> Settings:
    """Settings for a fresh collection on the server, for tests that add and remove documents."""
    return Settings(data_dir=tmp_path / "client", chroma_url=chroma_url, collection=f"scratch-{uuid.uuid4().hex[:8]}")


def _http_client(url: str) -> chromadb.ClientAPI:
    host, port = url.removeprefix("http://").split(":")
    return chromadb.HttpClient(host=host, port=int(port))


def test_ingest_writes_to_the_server_not_the_data_dir(server_corpus: Settings, corpus_settings: Settings) -> None:
    collection = _http_client(server_corpus.chroma_url).get_collection(server_corpus.collection)
    assert collection.count() == get_services(corpus_settings).store.count()
    assert not server_corpus.chroma_path.exists(), "the embedded store must not be created when a URL is set"
    again = ingest_paths(None, server_corpus)
    assert again.total("added") == again.total("updated") == again.total("removed") == 0
    assert {d.doc_id for d in list_documents(server_corpus)} == {d.doc_id for d in list_documents(corpus_settings)}


@pytest.mark.parametrize(
    ("question", "doc_id"),
    [
        ("When was the Social Value Act introduced?", "social-value-act-and-model"),
        ("What is principle A of the CIPFA/IFAC good governance framework?", "cipfa-ifac-good-governance"),
        ("How does the public body use cost benchmarking?", "uk-public-value-framework"),
    ],
)
def test_hybrid_search_on_the_server_matches_the_embedded_store(
    server_corpus: Settings, corpus_settings: Settings, question: str, doc_id: str
) -> None:
    on_server = search(question, server_corpus, k=5)
    assert doc_id in {r.doc_id for r in on_server[:3]}, [(r.doc_id, r.section) for r in on_server]
    assert all(r.dense is not None or r.bm25 is not None for r in on_server)
    embedded = search(question, corpus_settings, k=5)
    # Same chunks, same vectors, same BM25: the ranking must not depend on where the store lives.
    assert [r.id for r in on_server] == [r.id for r in embedded]


def test_bm25_follows_additions_and_removals_on_the_server(
    server_corpus: Settings, server_scratch: Settings, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    doc = tmp_path / "quokka.md"
    doc.write_text(
        "---\nid: quokka-index\ntitle: Quokka Index\n---\n# Quokka Index\n\n"
        "The quokka index measures how cheerful a procurement process feels to small suppliers.\n",
        encoding="utf-8",
    )
    copy_chunks(server_corpus, server_scratch)  # the corpus's chunks and vectors, without embedding them again
    assert all(r.doc_id != "quokka-index" for r in search("quokka index cheerful", server_scratch, k=5, mode="bm25"))
    # A second client (another machine: its own data dir, same server and collection) shares the chunks.
    other = server_scratch.model_copy(update={"data_dir": tmp_path / "other-client"})
    before = get_services(other).bm25_index()

    ingest_paths([doc], server_scratch)
    hits = search("quokka index cheerful", server_scratch, k=3, mode="bm25")
    assert hits and hits[0].doc_id == "quokka-index"
    index = get_services(server_scratch).bm25_index()
    stored = get_services(server_scratch).store.all_ids()
    assert sorted(index.ids) == sorted(stored), "the index holds exactly the stored chunks"
    # The other client's cached index notices through the chunk count, though its own marker did not move,
    # once its cached count is older than COUNT_MAX_AGE (a second; none here, so the test need not wait).
    monkeypatch.setattr(store_module, "COUNT_MAX_AGE", 0.0)
    after = get_services(other).bm25_index()
    assert after.fingerprint != before.fingerprint and "quokka-index" in set(after.doc_ids)

    assert remove_document("quokka-index", server_scratch) > 0
    assert all(r.doc_id != "quokka-index" for r in search("quokka index cheerful", server_scratch, k=5))
    assert "quokka-index" not in set(get_services(server_scratch).bm25_index().doc_ids)
    assert all(r.doc_id != "quokka-index" for r in search("quokka index cheerful", other, k=5, mode="bm25"))


def test_extractive_answer_from_the_server_cites_its_sources(server_corpus: Settings) -> None:
    answer = ask("What are the principles of social value?", settings=server_corpus, backend="extractive")
    assert not answer.refused, answer.answer
    assert answer.citations
    assert {c.doc_id for c in answer.citations} <= {d.doc_id for d in list_documents(server_corpus)}
    assert all(c.quote for c in answer.citations)


def test_a_question_on_the_server_embeds_only_itself(server_corpus: Settings, embed_spy) -> None:
    """The texts' vectors computed at ingest live on the server too (a second collection beside the chunks)."""
    reset_services(models=True)  # as in a new process: nothing cached
    services = get_services(server_corpus)
    embedded = embed_spy(services)
    question = "What are the principles of social value?"
    answer = ask(question, settings=server_corpus, services=services)
    assert not answer.refused and answer.citations
    assert embedded and all(text in question for text in embedded), embedded


def test_pva_chroma_url_switches_to_the_server(
    server_corpus: Settings, monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    monkeypatch.setenv("PVA_CHROMA_URL", server_corpus.chroma_url)
    get_settings.cache_clear()
    settings = get_settings()
    assert settings.chroma_url == server_corpus.chroma_url
    assert get_services(settings).store.count() == get_services(server_corpus).store.count()
    assert search("What does the Social Value Act require?", k=3)
    assert not settings.chroma_path.exists()


def test_an_unreachable_server_says_how_to_fix_it(tmp_path: Path) -> None:
    settings = Settings(data_dir=tmp_path / "data", chroma_url=f"http://127.0.0.1:{free_port()}")
    with pytest.raises(StoreUnavailableError) as caught:
        _ = get_services(settings).store
    message = str(caught.value)
    assert settings.chroma_url in message
    assert "chroma run" in message and "PVA_CHROMA_URL" in message
    with pytest.raises(StoreUnavailableError):
        search("social value", settings)
