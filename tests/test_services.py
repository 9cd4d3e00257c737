"""The expensive parts are built once and shared where settings agree; the store is the only door to Chroma."""

from __future__ import annotations

import re
from pathlib import Path

from assistant.config import Settings
from assistant.services import get_services, reset_services

ROOT = Path(__file__).resolve().parents[1]


def test_settings_that_agree_on_a_part_share_it(tmp_path: Path) -> None:
    here = Settings(data_dir=tmp_path / "a")
    fewer = here.model_copy(update={"top_k": 3})
    elsewhere = Settings(data_dir=tmp_path / "b")
    one, two, three = get_services(here), get_services(fewer), get_services(elsewhere)
    assert one is get_services(Settings(data_dir=tmp_path / "a"))  # equal settings, same services
    assert one is not two
    assert one.store is two.store and one.store.write_lock is two.store.write_lock  # one writer per location
    assert one.bm25 is two.bm25 and one.titles is two.titles
    assert three.store is not one.store and three.bm25 is not one.bm25
    assert three.embeddings is one.embeddings and three.checker is one.checker  # one loaded model
    assert one.vectors is one.embeddings.vectors


def test_reset_gives_fresh_stores_and_keeps_loaded_models_unless_asked(tmp_path: Path) -> None:
    settings = Settings(data_dir=tmp_path)
    services = get_services(settings)
    store, embeddings = services.store, services.embeddings
    reset_services()
    again = get_services(settings)
    assert again is not services and again.store is not store
    assert again.embeddings is embeddings
    reset_services(models=True)
    assert get_services(settings).embeddings is not embeddings


def test_the_chat_model_is_built_once_per_backend_and_an_injected_one_wins(settings: Settings) -> None:
    services = get_services(settings)
    assert services.chat() == ("extractive", None)
    local = services.chat_model("local")
    assert local is not None and services.chat("local") == ("local", local)
    injected = object()
    assert services.chat(None, injected) == ("fake", injected)  # type: ignore[arg-type]
    assert services.chat("local", injected) == ("local", injected)  # type: ignore[arg-type]


def _sources(*folders: str) -> list[Path]:
    return [path for folder in folders for path in (ROOT / folder).rglob("*.py")] + [ROOT / "app.py"]


def test_only_the_store_module_talks_to_chroma() -> None:
    store = ROOT / "assistant" / "index" / "store.py"
    private = re.compile(r"\.(_collection|_client)\b")
    offenders = [
        str(path.relative_to(ROOT))
        for path in _sources("assistant", "ingest", "evals")
        if path != store
        and (private.search(path.read_text()) or re.search(r"^\s*(import|from) chromadb", path.read_text(), re.M))
        and path.name != "bench.py"  # reports chromadb.__version__ among the package versions
    ]
    assert not offenders, offenders
    bench = (ROOT / "evals" / "bench.py").read_text()
    assert not private.search(bench)


def test_assistant_does_not_import_ingest_below_its_top_layer() -> None:
    importing = re.compile(r"^\s*(from ingest\b|import ingest\b)", re.M)
    top = {ROOT / "assistant" / "cli.py", *(ROOT / "assistant" / "web").rglob("*.py")}
    offenders = [
        str(path.relative_to(ROOT))
        for path in (ROOT / "assistant").rglob("*.py")
        if path not in top and importing.search(path.read_text())
    ]
    assert not offenders, offenders
