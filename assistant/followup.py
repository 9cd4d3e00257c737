"""Follow-up questions made standalone: the new question's ask, with its subject taken from the conversation.

A follow-up such as "and pillar three?" retrieves nothing useful on its own, so the chat first turns it into a
standalone question with :func:`rewrite_followup`: with a chat model when one is given, else (and whenever the
model's reply is unusable) with a deterministic rewrite. The deterministic rewrite keeps what the new question asks
(who, what, an email address, examples) and takes its subject from the previous turn:

* an elliptical "And X?" is the previous question with the part X stands in for replaced by X: the words that
  open X ("pillar two" → "pillar three"), a quoted phrase for a quoted phrase, a code for a code of the same form
  ("CC-BY" → "CC-BY-SA");
* "he", "she", "his", "her" name the person the previous answer named ("Who wrote it?" → "… by Jane Roe." →
  "What is Jane Roe's email address?");
* anything else keeps its words and gains the previous question's key terms in brackets, as context.

:func:`asks_to_read_on` tells a follow-up that asks for what the previous answer only introduced ("Give some
examples of those", "which ones?"): the answer then reads on from where the previous one stopped.
"""

from __future__ import annotations

import logging
import re
from collections.abc import Sequence
from typing import TYPE_CHECKING, Any

from assistant.types import message_text

if TYPE_CHECKING:
    from langchain_core.language_models.chat_models import BaseChatModel

log = logging.getLogger(__name__)

MAX_REWRITE_CHARS = 300
"""A chat model's rewrite longer than this is an answer or a ramble, not a question: fall back."""

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
_PERSONAL = re.compile(
    r"\b(?:he|she|him|his|her(?P<noun>(?=\s+(?!(?:and|or|to|in|on|at|for|with|by|about|from)\b)[a-z]))?)\b",
    re.IGNORECASE,
)
"""A personal pronoun; ``noun`` is set when "her" stands before a noun (possessive)."""
_NAME = re.compile(r"\b[A-Z][a-z]+(?:\s+(?:[A-Z]\.|[A-Z][a-z]+))+")
"""Capitalised words in a row, initials allowed: a person's name ("Jane Q. Roe")."""
_QUOTED = re.compile(r"(?<!\w)['‘\"“]([^'’\"”]{2,80})['’\"”](?!\w)")
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


_READ_ON = re.compile(
    r"\b(?:examples?|instances|such\s+as|which\s+ones?|name\s+them|list\s+them|what\s+are\s+they|go\s+on|"
    r"continue|tell\s+me\s+more|what\s+else)\b",
    re.IGNORECASE,
)


def asks_to_read_on(question: str) -> bool:
    """Whether ``question`` asks for what the previous answer only introduced ("Give some examples of those").

    It must ask for examples, the ones meant or more, and either point back ("those", "them") or be a bare
    fragment ("Which ones?"); "What's an example of the environmental one?" names its own subject.
    """
    words = _words(question)
    if not words or not _READ_ON.search(question):
        return False
    return len(words) <= 3 or any(w in _DEMONSTRATIVES or w in _PRONOUNS for w in words)


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
    answers = [text for role, text in turns if role == "assistant"]
    last_answer = answers[-1] if answers and turns[-1][0] == "assistant" else ""
    fallback = _deterministic_rewrite(question, _standalone_history(previous_user), last_answer)
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


def _deterministic_rewrite(question: str, previous: str, answer: str = "") -> str:
    """``question`` made standalone from the ``previous`` question and its ``answer`` (see the module's rules).

    A bare fragment whose first word appears in the previous question replaces the matching words there
    ("What questions does pillar two of … ask?" + "and pillar three?" → "What questions does pillar three of
    … ask?"); one that matches the form of a quoted phrase or a code there replaces that. "He", "his", "her"
    become the person the answer names. Anything else keeps its own words and gains the previous question's
    key terms in brackets.
    """
    core = _LEADS.sub("", question.strip(), count=1).strip() or question.strip()
    replaced = _replace_in_previous(core, previous)
    if replaced:
        return replaced
    person = _person(answer, previous) if _PERSONAL.search(core) else None
    if person:
        core = _PERSONAL.sub(lambda m: _person_for(m, person), core)
        if not any(w in _PRONOUNS or w in _DEMONSTRATIVES for w in _words(core)):
            return core[:1].upper() + core[1:]
    own = set(_words(core))
    terms = [w for w in _WORD.findall(previous) if w.lower() not in _MINOR and w.lower() not in own]
    if not terms:
        return core if person else question.strip()
    body = core.rstrip(" ?.!")
    body = body[:1].upper() + body[1:]
    return f"{body} ({' '.join(dict.fromkeys(terms))})?"


def _replace_in_previous(core: str, previous: str) -> str | None:
    """The previous question with the part the fragment ``core`` stands in for replaced by it, or None."""
    fragment = list(_WORD.finditer(core))
    while fragment and fragment[0].group().lower() in _ARTICLES:
        fragment.pop(0)
    if not fragment:
        return None
    anchor = fragment[0].group().lower()
    phrase = core[fragment[0].start() : fragment[-1].end()]
    if len(fragment) <= 4 and anchor not in _STARTERS and anchor not in _MINOR:
        spots = list(_WORD.finditer(previous))
        for i, spot in enumerate(spots):
            if spot.group().lower().rstrip("s") == anchor.rstrip("s"):
                replaced = spots[min(i + len(fragment), len(spots)) - 1]
                return previous[: spot.start()] + phrase + previous[replaced.end() :]
    quoted, before = _QUOTED.search(core), _QUOTED.search(previous)
    if quoted and before and len(core) - len(quoted.group(0)) <= 2:  # "And 'Verify the result'?"
        return previous[: before.start(1)] + quoted.group(1) + previous[before.end(1) :]
    if len(fragment) == 1 and _is_code(phrase):  # "And CC-BY-SA?" after "What does CC-BY mean?"
        codes = [spot for spot in _WORD.finditer(previous) if _is_code(spot.group()) and spot.group() != phrase]
        if codes:
            spot = max(codes, key=lambda c: (_common_prefix(c.group(), phrase), -c.start()))
            return previous[: spot.start()] + phrase + previous[spot.end() :]
    return None


def _is_code(word: str) -> bool:
    """An acronym or code ("CC-BY", "GPL-2", "TOMs"): two or more capitals and no lower-case letter but a plural s."""
    body = word.removesuffix("s")
    return sum(ch.isupper() for ch in body) >= 2 and not any(ch.islower() for ch in body)


def _common_prefix(a: str, b: str) -> int:
    n = 0
    while n < min(len(a), len(b)) and a[n].lower() == b[n].lower():
        n += 1
    return n


def _person(answer: str, previous: str) -> str | None:
    """The first person's name in ``answer`` that ``previous`` does not hold ("… by professor Mark H. Moore")."""
    asked = set(_words(previous))
    names = []
    for match in _NAME.finditer(answer):
        words = match.group().split()
        while words and (words[0].lower() in _MINOR or words[0].lower() in _STARTERS):
            words.pop(0)  # a capitalised sentence opening ("The …") is no part of a name
        if len(words) >= 2 and not {w.lower().rstrip(".") for w in words} & asked:
            names.append(" ".join(words))
    return names[0] if names else None


def _person_for(match: re.Match[str], person: str) -> str:
    """The person's name in place of a personal pronoun: possessive for "his" and "her" before a noun."""
    word = match.group(0).lower()
    return f"{person}'s" if word == "his" or (word == "her" and match.group("noun") is not None) else person


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
