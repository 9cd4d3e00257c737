"""Judges of "does this passage support this sentence?" used by the evals beside the app's own verifier.

An eval that grades answers only with the checker the answer chain already used would mostly measure that the
chain agrees with itself. So every answer sentence is judged by up to three signals, reported side by side
with their agreement:

``verifier``
    The app's configured checker (``Services.checker``), at its calibrated threshold.
``strict``
    Strict content-word entailment, independent of any model: every content word of the sentence (stemmed,
    stopwords dropped, numbers kept) must occur in the cited passages. It has no notion of paraphrase, so it
    under-counts support, but what it accepts is almost always supported: a floor, not an estimate.
``judge`` (optional)
    A local NLI cross-encoder (``nli:/path/to/folder``) or an LLM judge asked a RAGAS-style faithfulness
    question (``llm`` or ``llm:BACKEND``). Used only when configured (``pva eval --judge`` or
    ``PVA_EVAL_JUDGE``); when it cannot be built the run says why and carries on without it.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Protocol

from assistant.config import Settings
from assistant.grounding import CrossEncoderChecker, is_supported
from assistant.models.chat import get_chat_model
from assistant.services import get_services
from assistant.text import content_words, strip_citations, strip_list_marker


def claim_text(sentence: str) -> str:
    """The claim of an answer sentence: citation markers and a leading list marker removed."""
    return strip_list_marker(strip_citations(sentence)).strip()


def strict_entails(sentence: str, passages: Sequence[str]) -> bool:
    """Whether every content word of ``sentence`` occurs in ``passages`` (stemmed; numbers must match).

    A sentence with no content words ("Yes.") claims nothing and is counted as entailed.
    """
    words = content_words(claim_text(sentence))
    if not words:
        return True
    evidence: set[str] = set()
    for passage in passages:
        evidence |= content_words(passage)
    return words <= evidence


class SupportJudge(Protocol):
    """Anything that can say whether passages support a sentence."""

    name: str

    def __call__(self, sentence: str, passages: Sequence[str]) -> bool: ...


class VerifierJudge:
    """The app's own grounding checker at its threshold (what the answer chain uses)."""

    def __init__(self, settings: Settings) -> None:
        self.checker = get_services(settings).checker
        self.name = f"{self.checker.name} checker, threshold {self.checker.threshold:g}"

    def __call__(self, sentence: str, passages: Sequence[str]) -> bool:
        passages = [p for p in passages if p and p.strip()]
        if not passages:
            return False
        return is_supported(self.checker, claim_text(sentence), passages)[0]


class StrictJudge:
    """:func:`strict_entails` as a judge."""

    name = "strict content-word entailment"

    def __call__(self, sentence: str, passages: Sequence[str]) -> bool:
        return bool([p for p in passages if p and p.strip()]) and strict_entails(sentence, passages)


class NliJudge:
    """A local cross-encoder NLI model (a folder on disk; nothing is downloaded) at probability 0.5."""

    def __init__(self, path: Path) -> None:
        if not path.is_dir():
            raise ValueError(f"no cross-encoder folder at '{path}'")
        self.checker = CrossEncoderChecker(path)
        self.name = f"nli:{path}"

    def __call__(self, sentence: str, passages: Sequence[str]) -> bool:
        passages = [p for p in passages if p and p.strip()]
        if not passages:
            return False
        return is_supported(self.checker, claim_text(sentence), ["\n\n".join(passages)])[0]


LLM_JUDGE_PROMPT = """You check whether a statement is supported by a context, as in RAGAS faithfulness.

Context:
<<<
{context}
>>>

Statement: {statement}

Can the statement be directly inferred from the context alone? Reply with one word: yes or no."""


class LlmJudge:
    """A chat model asked whether the statement can be inferred from the context (yes / no).

    The reply is read from its first word; anything but "yes" counts as not supported, so a confused judge
    errs towards flagging. Results are cached per (sentence, passages), since the same pair recurs.
    """

    def __init__(self, settings: Settings, backend: str) -> None:
        model = get_chat_model(settings, backend)
        if model is None:
            raise ValueError(f"backend '{backend}' has no language model to judge with")
        self.model = model
        self.name = f"llm:{backend}"
        self._cache: dict[tuple[str, tuple[str, ...]], bool] = {}

    def __call__(self, sentence: str, passages: Sequence[str]) -> bool:
        key = (claim_text(sentence), tuple(passages))
        if key not in self._cache:
            prompt = LLM_JUDGE_PROMPT.format(context="\n\n".join(passages), statement=key[0])
            reply = self.model.invoke(prompt)
            text = str(getattr(reply, "content", reply)).strip().lower()
            self._cache[key] = text.startswith("yes")
        return self._cache[key]


@dataclass(frozen=True)
class JudgeChoice:
    """The optional third judge, or why there is none."""

    judge: SupportJudge | None
    status: str


def build_judge(spec: str | None, settings: Settings) -> JudgeChoice:
    """The judge named by ``spec`` (``none``, ``nli:/path``, ``llm``, ``llm:BACKEND``), or a skip reason.

    Never raises for a judge that cannot be built: the eval runs without it and the report says why.
    """
    spec = (spec or "").strip()
    if not spec or spec == "none":
        return JudgeChoice(None, "not configured (pass --judge nli:/path/to/cross-encoder or --judge llm:BACKEND)")
    try:
        if spec.startswith("nli:"):
            return JudgeChoice(NliJudge(Path(spec[4:]).expanduser()), "ok")
        if spec == "llm" or spec.startswith("llm:"):
            backend = spec[4:] or settings.chat_backend
            return JudgeChoice(LlmJudge(settings, backend), "ok")
    except Exception as exc:  # a judge is optional: report why it is missing instead of failing the run
        return JudgeChoice(None, f"skipped: {exc}")
    return JudgeChoice(None, f"skipped: unknown judge '{spec}' (use nli:/path or llm:BACKEND)")
