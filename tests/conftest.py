"""Shared fixtures and deterministic fakes.

Every test gets its own data dir (``PVA_DATA_DIR`` → a temp folder), so nothing touches ``./data``, and fresh
services (stores, indexes, chat models; the loaded embedding model is kept). The store is a real Chroma on
that folder and the embedding model is the real bundled one (its ONNX export is made once per session, in
``shared_model_cache``). ``corpus_settings`` is a session-wide index of
the bundled corpus for tests that only read.
"""

from __future__ import annotations

import shutil
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
from langchain_core.callbacks import CallbackManagerForLLMRun
from langchain_core.language_models.chat_models import BaseChatModel
from langchain_core.messages import AIMessage, AIMessageChunk, BaseMessage
from langchain_core.outputs import ChatGeneration, ChatGenerationChunk, ChatResult

from assistant.config import Settings, get_settings
from assistant.services import reset_services


@pytest.fixture(scope="session", autouse=True)
def shared_model_cache(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Path]:
    """One ONNX export of the embedding model for the whole session, subprocesses included, not one per data dir."""
    folder = tmp_path_factory.mktemp("models")
    with pytest.MonkeyPatch.context() as patch:
        patch.setenv("PVA_MODEL_CACHE", str(folder))
        yield folder


@pytest.fixture(autouse=True)
def isolated_data_dir(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """Point all state on disk at a fresh temp folder, and start from fresh services, for every test."""
    data_dir = tmp_path / "data"
    monkeypatch.setenv("PVA_DATA_DIR", str(data_dir))
    monkeypatch.delenv("PVA_CHROMA_URL", raising=False)
    get_settings.cache_clear()
    reset_services()
    yield data_dir
    get_settings.cache_clear()


@pytest.fixture
def settings(isolated_data_dir: Path) -> Settings:
    return get_settings()


@pytest.fixture
def ingest_document(settings: Settings, tmp_path: Path) -> Callable[[str, str], Settings]:
    """Ingest one made-up document (file name, text) into the test's index and return the settings that read it."""
    from ingest import ingest_paths

    def ingest(name: str, text: str) -> Settings:
        path = tmp_path / name
        path.write_text(text, encoding="utf-8")
        report = ingest_paths([path], settings)
        assert not report.failed, report.failed
        return settings

    return ingest


@pytest.fixture(scope="session")
def corpus_settings(tmp_path_factory: pytest.TempPathFactory) -> Settings:
    """Settings whose index holds the bundled corpus, built once per test session. Read-only."""
    from ingest import ingest_paths

    settings = Settings(data_dir=tmp_path_factory.mktemp("corpus-index"))
    report = ingest_paths(None, settings)
    assert not report.failed, report.failed
    return settings


class FakeChatModel(BaseChatModel):
    """A deterministic chat model for tests: replies from a script, records every prompt it was sent.

    ``replies`` are used in order (the last one repeats); a reply may be a callable taking the prompt
    messages and returning text, so a test can answer based on what the chain sent. Streams word by word.
    """

    replies: list[Any]
    prompts: list[list[BaseMessage]] = []
    calls: int = 0

    @property
    def _llm_type(self) -> str:
        return "fake-chat"

    def _reply(self, messages: list[BaseMessage]) -> str:
        self.prompts.append(list(messages))
        reply = self.replies[min(self.calls, len(self.replies) - 1)]
        self.calls += 1
        return reply(messages) if callable(reply) else str(reply)

    def _generate(
        self,
        messages: list[BaseMessage],
        stop: list[str] | None = None,
        run_manager: CallbackManagerForLLMRun | None = None,
        **kwargs: Any,
    ) -> ChatResult:
        return ChatResult(generations=[ChatGeneration(message=AIMessage(content=self._reply(messages)))])

    def _stream(
        self,
        messages: list[BaseMessage],
        stop: list[str] | None = None,
        run_manager: CallbackManagerForLLMRun | None = None,
        **kwargs: Any,
    ) -> Iterator[ChatGenerationChunk]:
        text = self._reply(messages)
        for i, word in enumerate(text.split(" ")):
            yield ChatGenerationChunk(message=AIMessageChunk(content=word if i == 0 else " " + word))


@pytest.fixture
def fake_chat():
    """Build a :class:`FakeChatModel`: ``fake_chat("reply 1", "reply 2")``."""

    def make(*replies: Any) -> FakeChatModel:
        return FakeChatModel(replies=list(replies), prompts=[])

    return make



def _interrupted_export(model_path: Path, target: Path) -> None:
    (target / "model.onnx").write_bytes(b"half a model")
    raise OSError("No space left on device")


@pytest.fixture
def interrupted_export():
    """An ONNX exporter that dies half way, as a killed process or a full disk would leave it."""
    return _interrupted_export


@pytest.fixture
def copying_export():
    """Build an exporter copying the files of a finished export (no PyTorch, no wait): ``copying_export(dir)``."""

    def make(source: Path):
        def export(model_path: Path, target: Path) -> None:
            for file in source.iterdir():
                shutil.copyfile(file, target / file.name)

        return export

    return make


@pytest.fixture
def embed_spy(monkeypatch: pytest.MonkeyPatch):
    """``embed_spy(services)``: from then on, every text the services' embedding model embeds is recorded in the
    list it returns (the model still embeds it)."""

    def spy(services: Any) -> list[str]:
        embedded: list[str] = []
        model = services.embeddings
        real = model.embed_documents
        monkeypatch.setattr(model, "embed_documents", lambda texts: embedded.extend(texts) or real(texts))
        return embedded

    return spy
