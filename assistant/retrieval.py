"""Finding the chunks that answer a question: hybrid search and follow-up rewriting.

Hybrid search runs two retrievers over the same chunks and fuses their rankings:

* **dense**: the question's embedding against Chroma (LangChain's ``Chroma`` store, cosine space), good at
  paraphrase ("how do they check value for money" → "cost benchmarking");
* **BM25**: keyword scores from :mod:`assistant.index.bm25`, good at exact rare terms (a measure code, "TOMs",
  "principle F") that a small embedding model blurs.

The two sides' scores live on unrelated scales (cosine 0..1, BM25 unbounded), so each side's scores are
divided by its best candidate's (both are never negative, so 0 stays "no match") and the fused score is their
convex combination
(:func:`fuse_scores`, after Bruch et al., "An Analysis of Fusion Functions for Hybrid Retrieval", 2023). Unlike
reciprocal rank fusion it keeps *how much* better a side's first hit is: a chunk that one side scores far above
the rest (the one chunk holding a rare exact term) is not outranked by chunks both sides only half like.

A follow-up such as "and pillar three?" retrieves nothing useful on its own, so the chat first turns it
into a standalone question with :func:`rewrite_followup`: with a chat model when one is available, else
(and whenever the model's reply is unusable) with a deterministic rewrite that carries the previous
question's terms.
"""

from __future__ import annotations

import logging
import re
from collections.abc import Sequence
from typing import TYPE_CHECKING, Any, Literal

from assistant.config import Settings
from assistant.index.outline import child_headings
from assistant.index.store import Store
from assistant.models.embeddings import VectorCache
from assistant.services import Services, services_for
from assistant.types import RetrievedChunk, message_text

if TYPE_CHECKING:
    from langchain_core.language_models.chat_models import BaseChatModel

log = logging.getLogger(__name__)

Mode = Literal["hybrid", "dense", "bm25"]
MODES: tuple[str, ...] = ("hybrid", "dense", "bm25")

DENSE_WEIGHT = 0.6
"""The dense side's share of the fused score (BM25 has the rest). Dense leads slightly: its scores are bounded and
comparable across questions, while a BM25 maximum can come from one common word."""

CANDIDATES_PER_RESULT = 4
MIN_CANDIDATES = 20
"""Each side contributes ``max(4·k, 20)`` candidates to the fusion, so a chunk ranked modestly by both sides
still scores on both."""

MAX_REWRITE_CHARS = 300
"""A chat model's rewrite longer than this is an answer or a ramble, not a question: fall back."""


# --------------------------------------------------------------------------------------------- search


def search(
    query: str,
    settings: Settings | None = None,
    *,
    k: int | None = None,
    doc_ids: Sequence[str] | None = None,
    mode: Mode = "hybrid",
    services: Services | None = None,
) -> list[RetrievedChunk]:
    """The ``k`` chunks (default ``settings.top_k``) that best match ``query``, best first.

    ``doc_ids`` restricts both sides to those frameworks (an empty list means no restriction, like an empty
    framework picker; a single string is taken as one id). ``mode`` picks one side alone, for comparisons and
    evals. Each result carries its fused ``score`` plus the side scores that produced it (``dense`` cosine
    similarity 0..1, ``bm25``), ``None`` for a side that did not find it. An empty store gives ``[]``.
    ``services`` are the parts to search with (default: those of ``settings``).
    """
    if not isinstance(query, str) or not query.strip():
        raise ValueError("the search query is empty: pass the question text to search for")
    if mode not in MODES:
        raise ValueError(f"unknown search mode {mode!r}: use one of {', '.join(MODES)}")
    services = services_for(settings, services)
    settings = settings or services.settings
    k = settings.top_k if k is None else k
    if k < 1:
        raise ValueError(f"k must be at least 1, got {k}")
    wanted = _normalise_doc_ids(doc_ids)
    store = services.store
    total = store.count()
    if total == 0:
        return []
    depth = min(max(k * CANDIDATES_PER_RESULT, MIN_CANDIDATES), total)

    dense: list[tuple[str, float]] = []
    bm25: list[tuple[str, float]] = []
    chunks: dict[str, tuple[str, dict[str, Any]]] = {}
    if mode != "bm25":
        for chunk_id, similarity, text, meta in _dense_search(store, services.vectors, query, depth, wanted):
            dense.append((chunk_id, similarity))
            chunks[chunk_id] = (text, meta)
    if mode != "dense":
        bm25 = services.bm25.index(store).search(query, depth, wanted)

    weights = {"hybrid": (DENSE_WEIGHT, 1.0 - DENSE_WEIGHT), "dense": (1.0, 0.0), "bm25": (0.0, 1.0)}[mode]
    fused = fuse_scores([(weights[0], dense), (weights[1], bm25)])
    dense_scores, bm25_scores = dict(dense), dict(bm25)
    order = sorted(
        fused,
        key=lambda c: (-fused[c], -dense_scores.get(c, -1.0), -bm25_scores.get(c, -1.0), c),
    )
    # Fetch text and metadata for keyword-only hits from Chroma itself: a chunk deleted since the BM25 index
    # was built simply is not returned, so no stale hit can ever surface.
    missing = [c for c in order if c not in chunks]
    if missing:
        got = store.get(ids=missing, include=["documents", "metadatas"])
        for chunk_id, text, meta in zip(got.ids, got.documents, got.metadatas, strict=True):
            chunks[chunk_id] = (text or "", dict(meta or {}))
    results: list[RetrievedChunk] = []
    for chunk_id in order:
        if chunk_id not in chunks:
            continue
        text, meta = chunks[chunk_id]
        if wanted is not None and meta.get("doc_id") not in wanted:
            continue
        found = to_chunk(chunk_id, text, meta, fused[chunk_id], dense_scores.get(chunk_id), bm25_scores.get(chunk_id))
        results.append(found)
        if len(results) == k:
            break
    return results


def fuse_scores(sides: Sequence[tuple[float, Sequence[tuple[str, float]]]]) -> dict[str, float]:
    """Fuse scored id lists: ``Σ weight · normalised score`` over the ``(weight, [(id, score ≥ 0), …])`` sides.

    Each side's scores are divided by that side's best (its first hit scores 1), so how far ahead a hit is
    counts, not only its rank. An id missing from a side gets nothing from it.
    """
    fused: dict[str, float] = {}
    for weight, scored in sides:
        if not scored:
            continue
        high = max(score for _, score in scored)
        for item, score in scored:
            fused[item] = fused.get(item, 0.0) + weight * (max(score, 0.0) / high if high > 0 else 0.0)
    return fused


def _normalise_doc_ids(doc_ids: Sequence[str] | str | None) -> list[str] | None:
    if doc_ids is None:
        return None
    if isinstance(doc_ids, str):
        doc_ids = [doc_ids]
    wanted = list(dict.fromkeys(str(d) for d in doc_ids if d))
    return wanted or None


def _dense_search(
    store: Store, vectors: VectorCache, query: str, depth: int, doc_ids: list[str] | None
) -> list[tuple[str, float, str, dict[str, Any]]]:
    """Chroma's nearest chunks as ``(id, cosine similarity, text, metadata)``.

    The collection uses cosine space, so Chroma's distance is ``1 - cos``; with normalised embeddings the
    similarity is clipped to 0..1 (an opposite-pointing chunk is simply "not similar").
    """
    where = {"doc_id": {"$in": doc_ids}} if doc_ids else None
    # Through the shared vector cache: the extractive answerer and the checker embed the question again.
    vector = vectors.get([query])[0]
    hits = store.similarity_search(vector.tolist(), k=depth, where=where)
    found = []
    for doc, distance in hits:
        if doc.id is None:  # every chunk is written with an id; guard against a foreign collection
            continue
        similarity = min(max(1.0 - float(distance), 0.0), 1.0)
        found.append((doc.id, similarity, doc.page_content, dict(doc.metadata or {})))
    return found


def to_chunk(
    chunk_id: str,
    text: str,
    meta: dict[str, Any],
    score: float = 0.0,
    dense: float | None = None,
    bm25: float | None = None,
) -> RetrievedChunk:
    """A chunk read from the store (text and metadata) with the scores that found it."""

    def number(name: str) -> int:
        try:
            return int(meta.get(name) or 0)
        except (TypeError, ValueError):
            return 0

    return RetrievedChunk(
        id=chunk_id,
        text=text,
        doc_id=str(meta.get("doc_id", "")),
        title=str(meta.get("title", "")),
        source=str(meta.get("source", "")),
        section=str(meta.get("section", "")),
        position=number("position"),
        start=number("start"),
        end=number("end"),
        children=tuple(child_headings(meta)),
        score=score,
        dense=dense,
        bm25=bm25,
    )


# --------------------------------------------------------------------------------------------- follow-ups

_WORD = re.compile(r"[\w’'-]+")
_LEADS = re.compile(
    r"^\s*(?:"
    r"(?:and|also|plus|but|or|so|then|ok(?:ay)?|now)\b[\s,]*(?:(?:what|how)\s+about\b|what\s+of\b)?"
    r"|(?:what|how)\s+about\b|what\s+of\b|same\s+(?:for|with|question\s+for)\b"
    r"|(?:tell\s+me|say|explain)\s+more\b(?:\s+about\b)?|more\s+(?:on|about)\b"
    r")[\s,]*",
    re.IGNORECASE,
)
_CONTINUATIONS = re.compile(
    r"^\s*(?:why(?:\s+not)?|how\s+so|which\s+ones?|go\s+on|continue|elaborate|expand|more|examples?|"
    r"(?:what|anything)\s+else|in\s+what\s+way|such\s+as)\s*[?.!]*\s*$",
    re.IGNORECASE,
)


def _wordset(words: str) -> frozenset[str]:
    return frozenset(words.split())


_DEMONSTRATIVES = _wordset("this these those that's former latter")
"""Point back at the conversation wherever they stand ("How do councils use these measures?")."""
_PRONOUNS = _wordset("it its it's itself they them their theirs themselves he she him his her")
"""Point back only when no noun in the question could be their antecedent: "What are its themes?" leans on the
conversation, "How does the public body manage its resources?" does not."""
_SUBJECT_PRONOUNS = _wordset("it they he she")
_AUXILIARIES = _wordset("is was are were do does did can could should would will has have had must may might")
_ONE_REFERS = re.compile(r"\b(?:the|this|that)\s+[\w-]+\s+one\b|\bwhich\s+one\b", re.IGNORECASE)
"""'the environmental one', 'which one': a noun from the conversation stands behind "one"."""
_STARTERS = _wordset(
    "what which who whom whose when where why how is are was were do does did can could should would will "
    "may might must has have had define explain list describe summarise summarize compare give show tell name "
    "outline"
)
_ARTICLES = _wordset("the a an")
_MINOR = _wordset(
    "a an and are as at be but by for if in into is it no not of on or such that the their then there these "
    "they this to was will with what which who whom whose when where why how do does did can could should "
    "would may might must has have had been being were am its them those i me my we our you your about "
    "tell explain describe define list give show please"
)


def _words(text: str) -> list[str]:
    return [w.lower() for w in _WORD.findall(text)]


def is_followup(question: str) -> bool:
    """Whether ``question`` leans on the conversation: a deliberately cheap heuristic that errs towards yes.

    Yes when it opens like a continuation ("and…", "what about…", "same for…", "why?"), refers back with a
    demonstrative ("those", "this framework", "what does that mean") or a pronoun with no antecedent in the
    question itself ("how is it measured?"), or is a bare fragment of at most three words ("pillar three?").
    A false yes costs little: the rewrite only adds the previous question's terms (or a chat model returns
    the question unchanged).
    """
    text = question.strip()
    if not text:
        return False
    if _LEADS.match(text) or _CONTINUATIONS.match(text):
        return True
    if _ONE_REFERS.search(text):
        return True
    words = _words(text)
    if len(words) <= 4 and any(w in _PRONOUNS for w in words):
        return True  # "Who wrote it?": too short to hold what "it" stands for
    for i, w in enumerate(words):
        if w in _DEMONSTRATIVES:
            return True
        if w in _PRONOUNS and all(p in _MINOR or p in _STARTERS for p in words[:i]):
            return True
        if w in _SUBJECT_PRONOUNS and i and words[i - 1] in _AUXILIARIES:
            return True  # "What strategic skills does it need?": the subject is someone from the conversation
        # "that" after a verb or preposition points back ("what does that mean", "more about that"); after a noun
        # it opens a clause ("the principle that covers risk").
        if w == "that" and (i == 0 or i == len(words) - 1 or words[i - 1] in _MINOR or words[i - 1] in _STARTERS):
            return True
    return len(words) <= 3 and bool(words) and words[0] not in _STARTERS


def rewrite_followup(question: str, history: Sequence[dict] | None, llm: BaseChatModel | None = None) -> str:
    """A standalone version of ``question`` given the chat ``history`` (Gradio "messages" dicts).

    Returns ``question`` itself when there is no earlier user turn or it already stands alone (see
    :func:`is_followup`). With ``llm``, a condense prompt rewrites it; a failed call, an empty reply or one
    longer than :data:`MAX_REWRITE_CHARS` falls back to the deterministic rewrite, so retrieval always gets a
    sensible query.
    """
    turns = _history_turns(history, question)
    previous_user = [text for role, text in turns if role == "user"]
    if not previous_user or not is_followup(question):
        return question
    fallback = _deterministic_rewrite(question, _standalone_history(previous_user))
    if llm is None:
        return fallback
    try:
        reply = _condense_chain(llm).invoke({"history": _format_history(turns), "question": question.strip()})
    except Exception as exc:  # any backend failure (network, model) must not break the chat: fall back
        log.warning("follow-up rewrite by the chat model failed (%s); using the deterministic rewrite", exc)
        return fallback
    cleaned = _clean_reply(reply)
    return cleaned if cleaned else fallback


def _message_field(message: Any, name: str) -> Any:
    return message.get(name) if isinstance(message, dict) else getattr(message, name, None)


def _history_turns(history: Sequence[Any] | None, question: str) -> list[tuple[str, str]]:
    turns = []
    for message in history or []:
        role, text = _message_field(message, "role"), message_text(_message_field(message, "content")).strip()
        if role in ("user", "assistant") and text:
            turns.append((role, text))
    if turns and turns[-1] == ("user", question.strip()):  # a caller that already appended the question
        turns.pop()
    return turns


def _standalone_history(user_turns: list[str]) -> str:
    """The last user question made standalone, rewriting the earlier turns in order (a chain of follow-ups)."""
    standalone = user_turns[0]
    for turn in user_turns[1:]:
        standalone = _deterministic_rewrite(turn, standalone) if is_followup(turn) else turn
    return standalone


def _deterministic_rewrite(question: str, previous: str) -> str:
    """Carry ``previous``'s terms into ``question``.

    A bare fragment whose first word appears in the previous question replaces the matching words there
    ("What questions does pillar two of … ask?" + "and pillar three?" → "What questions does pillar three of
    … ask?"). Anything else keeps its own words and gains the previous question's key terms in brackets.
    """
    core = _LEADS.sub("", question.strip(), count=1).strip() or question.strip()
    fragment = list(_WORD.finditer(core))
    while fragment and fragment[0].group().lower() in _ARTICLES:
        fragment.pop(0)
    anchor = fragment[0].group().lower() if fragment else ""
    if anchor and len(fragment) <= 4 and anchor not in _STARTERS and anchor not in _MINOR:
        spots = list(_WORD.finditer(previous))
        for i, spot in enumerate(spots):
            if spot.group().lower().rstrip("s") == anchor.rstrip("s"):
                replaced = spots[min(i + len(fragment), len(spots)) - 1]
                phrase = core[fragment[0].start() : fragment[-1].end()]
                return previous[: spot.start()] + phrase + previous[replaced.end() :]
    own = set(_words(core))
    terms = [w for w in _WORD.findall(previous) if w.lower() not in _MINOR and w.lower() not in own]
    if not terms:
        return question.strip()
    body = core.rstrip(" ?.!")
    body = body[:1].upper() + body[1:]
    return f"{body} ({' '.join(dict.fromkeys(terms))})?"


_CONDENSE_SYSTEM = (
    "You rewrite the last question of a conversation about guidance documents into a "
    "standalone question that can be understood without the conversation. Resolve words like 'it', 'they', "
    "'that' and fragments like 'and section three?' using the conversation: name the framework, section or "
    "term they refer to. Keep the user's wording otherwise. If the question already stands alone, return it "
    "unchanged. Reply with the question only: no answer, no explanation, no quotes."
)
_CONDENSE_HUMAN = "Conversation:\n{history}\n\nLast question: {question}\n\nStandalone question:"


def _condense_chain(llm: BaseChatModel) -> Any:
    from langchain_core.output_parsers import StrOutputParser
    from langchain_core.prompts import ChatPromptTemplate

    prompt = ChatPromptTemplate.from_messages([("system", _CONDENSE_SYSTEM), ("human", _CONDENSE_HUMAN)])
    return prompt | llm | StrOutputParser()


def _format_history(turns: list[tuple[str, str]], max_messages: int = 6, max_chars: int = 600) -> str:
    """The recent turns as plain lines; long answers are cut, since only their topic matters here."""
    lines = []
    for role, text in turns[-max_messages:]:
        text = " ".join(text.split())
        if len(text) > max_chars:
            text = text[:max_chars].rsplit(" ", 1)[0] + " …"
        lines.append(f"{'User' if role == 'user' else 'Assistant'}: {text}")
    return "\n".join(lines)


_THINK = re.compile(r"<think>.*?</think>", re.DOTALL | re.IGNORECASE)
_LABEL = re.compile(r"^\s*(?:standalone|rewritten|reformulated)?\s*question\s*:\s*", re.IGNORECASE)


def _clean_reply(reply: Any) -> str:
    """The model's question without reasoning tags, labels or quotes; "" when it is not a usable question."""
    text = _THINK.sub("", str(reply or "")).strip()
    if len(text) > MAX_REWRITE_CHARS:
        return ""
    for line in text.splitlines():
        line = _LABEL.sub("", line).strip().strip("\"'“”‘’`").strip()
        if line:
            return line if re.search(r"\w", line) else ""
    return ""
