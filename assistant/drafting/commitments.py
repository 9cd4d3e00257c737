"""The bidder's commitments read for their form, quantity and timeframe, and restated as delivery, timeline and
measure sentences that add nothing the commitment does not already say and read well whatever the phrasing."""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass

from assistant.drafting.clause import Clause, lower_first, read_clause, upper_first

__all__ = ["Commitment", "delivery_sentence", "measure_sentence", "phrase", "timeline_sentence"]

_MONTH = r"(?:January|February|March|April|May|June|July|August|September|October|November|December)"
_COUNT = r"(?:\d[\d,.]*|one|two|three|four|five|six|seven|eight|nine|ten|eleven|twelve|twenty|thirty|[a-z]+ty)"
_TIMEFRAMES = [
    re.compile(
        rf"\b(?:by|before|until|from|in|during|no later than)\s+(?:the\s+)?(?:end\s+of\s+)?"
        rf"(?:(?:\d{{1,2}}(?:st|nd|rd|th)?\s+)?{_MONTH}\s+)?(?:Q[1-4]\s+)?(?:19|20)\d\d(?:/\d{{2,4}})?\b",
        re.I,
    ),
    re.compile(
        rf"\b(?:over|within|for|across|in|during|throughout)\s+(?:the\s+)?(?:first\s+|next\s+)?{_COUNT}[\s-]+"
        rf"(?:years?|months?|weeks?|quarters?)(?:\s+of\s+the\s+contract)?\b",
        re.I,
    ),
    re.compile(r"\b(?:in|from|by|during)\s+(?:the\s+)?(?:contract\s+)?year\s+(?:\d+|one|two|three|four|five)\b", re.I),
    re.compile(
        r"\b(?:over|during|for|across|throughout)\s+the\s+(?:life\s+of\s+the\s+|whole\s+)?contract(?:\s+term)?\b",
        re.I,
    ),
    re.compile(
        r"\b(?:each|every|per|a)\s+(?:year|month|quarter|week|annum)\b|\b(?:annually|quarterly|monthly|weekly)\b",
        re.I,
    ),
]
_QUALIFIER = r"(?:(?:at least|up to|a minimum of|minimum of|no fewer than|more than|over)\s+)?"
_LEADING_QUANTITY = re.compile(
    rf"^(?P<qty>{_QUALIFIER}(?:[£$€]\s?[\d,.]+\s?(?:k|m|bn|million|thousand)?\b|\d[\d,.]*\s?%|\d[\d,.]*"
    r"|(?:one|two|three|four|five|six|seven|eight|nine|ten|eleven|twelve|fifteen|twenty|thirty|forty|fifty|"
    r"hundred)(?:[\s-](?:one|two|three|four|five|six|seven|eight|nine|hundred|thousand))*)(?:\s?%|\s+per\s?cent)?)"
    r"\s+(?P<rest>.+)$",
    re.I,
)


@dataclass(frozen=True)
class Commitment:
    """A commitment line as given, read as a clause, with the quantity and timeframes it states (if any)."""

    text: str
    """The line as given, without a trailing full stop."""
    clause: Clause
    """The line normalised: "We will create 500 jobs" → the verb clause "create 500 jobs"."""
    quantity: str = ""
    """The quantity a noun phrase starts with ("500", "30%", "£250,000")."""
    what: str = ""
    """The clause without its timeframes (and, when it starts with a quantity, without that too)."""
    timeframes: tuple[str, ...] = ()
    body: str = ""
    """The clause without its timeframes; empty when taking them out leaves a fragment ("…, reviewed")."""

    @classmethod
    def parse(cls, text: str, us: Sequence[str] = ()) -> Commitment:
        """Read ``text`` for its form, timeframes and, for a noun phrase that starts with one, its quantity.

        ``us`` names the bidder, so "<supplier> will …" reads as "we will …".
        """
        clause = read_clause(text, us)
        clean = clause.text
        found = []
        rest = clean
        for pattern in _TIMEFRAMES:
            for match in pattern.finditer(clean):
                phrase = match.group(0)
                if not any(phrase in f or f in phrase for f in found):
                    found.append(phrase)
                    rest = rest.replace(phrase, " ")
        rest = re.sub(r"\s+([,;.])", r"\1", " ".join(rest.split())).strip(" ,;-–")
        rest = re.sub(r"\b(?:and|by|over|in|from|to|within)$", "", rest).strip(" ,;-–")
        body = "" if not rest or re.search(r",\s*\w+$", rest) else rest
        quantity, what = "", rest or clean
        match = _LEADING_QUANTITY.match(what) if clause.form == "noun" else None
        if match:
            quantity, what = match.group("qty").strip(), match.group("rest").strip()
        ordered = sorted(found, key=clean.find)
        original = " ".join(text.split()).strip().rstrip(".;!").strip()
        return cls(original, clause, quantity, what, tuple(ordered), body)

    @property
    def is_money(self) -> bool:
        return bool(re.search(r"[£$€]|\bpounds\b", self.quantity))

    @property
    def is_percent(self) -> bool:
        return bool(re.search(r"%|per\s?cent", self.quantity, re.I))


# The phrase table: how a commitment is delivered, chosen by the first pattern its text matches.
_ACTIVITIES: list[tuple[str, str]] = [
    (
        r"apprentic",
        "recruit and support the apprentices, recording each start and completion",
    ),
    (
        r"placement|work experience|internship",
        "arrange and support the placements, recording each one",
    ),
    (
        r"health|wellbeing|mental",
        "provide the support and record its take-up",
    ),
    (
        r"disab|accessib",
        "make our recruitment and workplaces accessible and record the results",
    ),
    (
        r"\bjobs?\b|employ|recruit|hire|vacanc",
        "advertise and fill the roles, recording each person employed",
    ),
    (
        r"train|skill|course|qualif|upskill|mentor",
        "plan and deliver the training, recording attendance and completions",
    ),
    (
        r"fleet|vehicle|emission|carbon|net zero|electric|fuel",
        "plan the changes to our operations and track the emissions",
    ),
    (
        r"waste|recycl|plastic|landfill",
        "change how we handle waste and track the amounts reduced and recycled",
    ),
    (
        r"energy|renewable|solar",
        "plan the changes to our energy use and track the savings",
    ),
    (
        r"biodivers|\btrees?\b|green space|habitat|planting|wildflower",
        "plan and carry out the work, recording what is delivered",
    ),
    (
        r"supplier|\bsmes?\b|vcse|social enterprise|supply chain|spend|subcontract",
        "open opportunities in our supply chain to these organisations and track the spend with them",
    ),
    (
        r"volunteer",
        "organise the volunteering with community organisations and record the time given",
    ),
    (
        r"\bfund|donat|grant|invest",
        "administer the funding and record how it is spent",
    ),
    (
        r"wage|\bpay\b|gender|equal|divers|inclusi|ethnic",
        "review our policies and practice and track the results",
    ),
    (
        r"communit|school|resident|engag|event",
        "plan this with the community and record what is delivered",
    ),
]
_DEFAULT_ACTIVITY = "plan, resource and deliver it, recording what is delivered"
_FREQUENCIES = {
    "year": "Each year",
    "annum": "Each year",
    "annually": "Each year",
    "yearly": "Each year",
    "quarter": "Each quarter",
    "quarterly": "Each quarter",
    "month": "Each month",
    "monthly": "Each month",
    "week": "Each week",
    "weekly": "Each week",
}
_CHANGE = re.compile(r"^[\d.,]+\s?%\s+(?:reduction|increase|cut|rise|fall|decrease|improvement)\b", re.I)
_ACHIEVED = re.compile(r"reduction|increase|\bnet zero\b|\bzero\b|%|per\s?cent|saving|accredit|certif|status", re.I)


def _activity(commitment: Commitment) -> str:
    lowered = commitment.text.lower()
    return next((activity for pattern, activity in _ACTIVITIES if re.search(pattern, lowered)), _DEFAULT_ACTIVITY)


def phrase(commitment: Commitment) -> str:
    """The commitment as a noun phrase to go mid-sentence: "our commitment to cut emissions", "500 local jobs"."""
    clause = commitment.clause
    if clause.form in ("verb", "gerund"):
        return f"our commitment to {clause.text}"
    if clause.form == "sentence":
        return f"our commitment that {clause.text}"
    if _CHANGE.match(clause.text):
        return f"a {clause.text}"
    return clause.text


def _pledge(commitment: Commitment, text: str) -> str:
    """``text`` (the clause, or part of it) as what we will do: "we will cut…", "we will deliver 500 jobs"."""
    form = commitment.clause.form
    if form == "verb":
        return f"we will {text}"
    if form == "gerund":
        return f"we will deliver on our commitment to {text}"
    if form == "sentence":
        return text
    article = "a " if _CHANGE.match(text) else ""
    return f"we will {'achieve' if _ACHIEVED.search(text) else 'deliver'} {article}{text}"


def delivery_sentence(commitment: Commitment) -> str:
    """How a commitment will be delivered: "To cut fleet emissions by 30% by 2027, we will plan…"."""
    activity = _activity(commitment)
    if commitment.clause.form == "verb":
        return f"To {commitment.clause.text}, we will {activity}."
    return f"To deliver {phrase(commitment)}, we will {activity}."


def _when(timeframe: str) -> str:
    """A timeframe to open a sentence: frequencies read "Each year", anything else as written."""
    words = timeframe.lower().split()
    if words and (words[0] in ("a", "per", "each", "every") or len(words) == 1) and words[-1] in _FREQUENCIES:
        return _FREQUENCIES[words[-1]]
    return timeframe


def timeline_sentence(commitment: Commitment) -> str:
    """When a commitment is delivered: "By 2027, we will cut fleet emissions by 30%."."""
    if not commitment.timeframes:
        return f"The timescale for {phrase(commitment)} is to be confirmed."
    if not commitment.body:  # taking the timeframe out leaves a fragment: say it whole
        return f"{upper_first(_pledge(commitment, commitment.clause.text))}."
    when = ", ".join(_when(t) for t in commitment.timeframes)
    return f"{upper_first(when)}, {_pledge(commitment, commitment.body)}."


def measure_sentence(commitment: Commitment) -> str:
    """How a commitment is measured: against its quantity when it starts with one, else progress on it."""
    when = f" {', '.join(commitment.timeframes)}" if commitment.timeframes else ""
    what = lower_first(commitment.what)
    if commitment.quantity and commitment.is_percent:
        label = f"the share {what}" if what.startswith("of ") else f"the {what}"
        return f"We will measure {label} against the target of {commitment.quantity}{when}."
    if commitment.quantity and commitment.is_money:
        amount = f"the value {what}" if what.startswith("of ") else f"the amount spent or invested ({what})"
        return f"We will measure {amount} against the commitment of {commitment.quantity}{when}."
    if commitment.quantity:
        return f"We will count the {what} delivered against the target of {commitment.quantity}{when}."
    return f"We will track and report progress on {phrase(commitment)}."
