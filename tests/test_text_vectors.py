"""The vectors of chunk texts are computed at ingest and stored with the index, so a question embeds only itself."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from assistant.answer import ask, warm_up_verifier
from assistant.index.store import texts_collection
from assistant.services import get_services, reset_services
from ingest import ingest_paths, remove_document

GUIDE = """---
id: grants-guide
title: Community Grants Guide
---
# Community Grants Guide

## Eligibility

Community groups with a constitution and a bank account may apply for a grant. Parish councils are not eligible,
and each group may hold only one grant at a time.

## Assessment

Applications are scored on three criteria:

- local need shown by evidence
- value for money of the costed plan
- the number of residents who take part
"""


@pytest.fixture
def settings(settings):
    """Small chunks, so the guide splits into one chunk per section."""
    return settings.model_copy(update={"chunk_tokens": 72})


def _write(folder: Path, text: str) -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / "guide.md"
    path.write_text(text, encoding="utf-8")
    return path


def _stored(settings) -> list[str]:
    store = get_services(settings).store
    return store.text_vectors(store.all_ids())[0]


def test_after_ingest_a_question_in_a_new_process_embeds_only_itself(corpus_settings, embed_spy) -> None:
    reset_services(models=True)  # as in a new process: a freshly loaded model, nothing cached
    services = get_services(corpus_settings)
    embedded = embed_spy(services)
    question = "What is social value?"
    answer = ask(question, services=services)
    assert not answer.refused and answer.citations and answer.grounding.supported
    assert embedded and all(text in question for text in embedded), embedded  # the question (and its trimmed form)


def test_the_verifier_warm_up_at_app_start_embeds_nothing_after_ingest(corpus_settings, embed_spy) -> None:
    reset_services(models=True)
    embedded = embed_spy(get_services(corpus_settings))
    assert warm_up_verifier(corpus_settings) > 0
    assert embedded == []


def test_an_index_without_stored_vectors_gives_the_same_answer(settings, tmp_path: Path, embed_spy) -> None:
    ingest_paths([_write(tmp_path / "docs", GUIDE)], settings)
    question = "Who may apply for a grant?"
    reset_services(models=True)
    stored = ask(question, settings=settings)
    services = get_services(settings)
    services.store.client.delete_collection(texts_collection(settings.collection))  # an index built before them
    reset_services(models=True)
    services = get_services(settings)
    embedded = embed_spy(services)
    lazy = ask(question, settings=settings, services=services)
    assert not stored.refused and stored.citations
    assert (lazy.answer, lazy.citations, lazy.grounding) == (stored.answer, stored.citations, stored.grounding)
    assert any("Parish councils are not eligible" in text for text in embedded)  # the chunk's texts, embedded now


def test_stored_vectors_follow_their_chunks(settings, tmp_path: Path) -> None:
    path = _write(tmp_path / "docs", GUIDE)
    ingest_paths([path], settings)
    texts = _stored(settings)
    eligible = "Parish councils are not eligible, and each group may hold only one grant at a time."
    assert eligible in texts and "value for money of the costed plan" in texts
    store = get_services(settings).store
    found, vectors = store.text_vectors(store.all_ids())
    expected = get_services(settings).embeddings.embed_documents([eligible])[0]
    assert np.allclose(vectors[found.index(eligible)], expected, atol=1e-4)

    ingest_paths([_write(tmp_path / "docs", GUIDE.replace("Parish councils are", "Town councils are"))], settings)
    texts = _stored(settings)
    assert eligible not in texts and eligible.replace("Parish", "Town") in texts
    assert "value for money of the costed plan" in texts  # the unchanged chunk keeps its texts

    remove_document("grants-guide", settings)
    assert store.text_rows("grants-guide") == set()


def test_an_edit_embeds_only_the_texts_it_changed(settings, tmp_path: Path, embed_spy) -> None:
    ingest_paths([_write(tmp_path / "docs", GUIDE)], settings)
    embedded = embed_spy(get_services(settings))
    ingest_paths([_write(tmp_path / "docs", GUIDE.replace("Parish councils are", "Town councils are"))], settings)
    kept = "Community groups with a constitution and a bank account may apply for a grant."
    assert any("Town councils" in text for text in embedded)
    assert kept in _stored(settings) and not any(text == kept for text in embedded)  # its stored vector moved
    assert len(embedded) == len(set(embedded))  # each text once
