"""Shared fixtures and deterministic fakes.

Every test gets its own data dir (``PVA_DATA_DIR`` → a temp folder), so nothing touches ``./data``. The
store is a real Chroma on that folder and the embedding model is the real bundled one. ``corpus_settings``
is a session-wide index of the bundled corpus for tests that only read.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from assistant.config import Settings, get_settings
from assistant.store import reset_store_cache


@pytest.fixture(autouse=True)
def isolated_data_dir(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """Point all state on disk at a fresh temp folder for every test."""
    data_dir = tmp_path / "data"
    monkeypatch.setenv("PVA_DATA_DIR", str(data_dir))
    monkeypatch.delenv("PVA_CHROMA_URL", raising=False)
    get_settings.cache_clear()
    yield data_dir
    get_settings.cache_clear()


@pytest.fixture
def settings(isolated_data_dir: Path) -> Settings:
    return get_settings()


@pytest.fixture(scope="session")
def corpus_settings(tmp_path_factory: pytest.TempPathFactory) -> Settings:
    """Settings whose index holds the bundled corpus, built once per test session. Read-only."""
    from ingest import ingest_paths

    settings = Settings(data_dir=tmp_path_factory.mktemp("corpus-index"))
    report = ingest_paths(None, settings)
    assert not report.failed, report.failed
    return settings


@pytest.fixture(scope="session", autouse=True)
def _forget_stores_at_end():
    yield
    reset_store_cache()
