"""The bidder's commitments read for their quantity and timeframe, and restated as delivery, timeline and measure
sentences that add nothing the commitment does not already say."""

from __future__ import annotations

import re
from dataclasses import dataclass

__all__ = ["Commitment", "delivery_sentence", "measure_sentence", "timeline_sentence"]

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
    """A commitment line as given, with the quantity and timeframe it states (if any)."""

    text: str
    quantity: str = ""
    what: str = ""
    """The commitment without its timeframe (and, when it starts with a quantity, without that too)."""
    timeframes: tuple[str, ...] = ()

    @classmethod
    def parse(cls, text: str) -> Commitment:
        """Read ``text`` for its timeframes and, when it starts with one, its quantity."""
        clean = text.strip().rstrip(".;")
        found = []
        rest = clean
        for pattern in _TIMEFRAMES:
            for match in pattern.finditer(clean):
                phrase = match.group(0)
                if not any(phrase in f or f in phrase for f in found):
                    found.append(phrase)
                    rest = rest.replace(phrase, " ")
        rest = re.sub(r"\s+([,;.])", r"\1", " ".join(rest.split())).strip(" ,;-–")
        rest = re.sub(r"\b(?:and|by|over|in|from|to)$", "", rest).strip(" ,;-–")
        quantity, what = "", rest or clean
        match = _LEADING_QUANTITY.match(what)
        if match:
            quantity, what = match.group("qty").strip(), match.group("rest").strip()
        ordered = sorted(found, key=clean.find)
        return cls(text=clean, quantity=quantity, what=what, timeframes=tuple(ordered))

    @property
    def is_money(self) -> bool:
        return bool(re.search(r"[£$€]|\bpounds\b", self.quantity))

    @property
    def is_percent(self) -> bool:
        return bool(re.search(r"%|per\s?cent", self.quantity, re.I))


def _lower_first(text: str) -> str:
    """Lower-case the first letter for use mid-sentence, unless it starts a name or an acronym."""
    words = text.split()
    if not words:
        return text
    first = words[0]
    second = words[1] if len(words) > 1 else ""
    if first[:1].isupper() and first[1:].islower() and not second[:1].isupper():
        return first[:1].lower() + text[1:]
    return text


def _upper_first(text: str) -> str:
    return text[:1].upper() + text[1:]


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
_NOUN_START = re.compile(
    r"^(?:a|an|the|our|\d|[£$€]|at least|up to|one|two|three|four|five|six|seven|eight|nine|ten|twelve|twenty)\b",
    re.I,
)
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
_DEADLINE = re.compile(r"^(?:by|before|until|no later than|in)\b", re.I)


def _activity(commitment: Commitment) -> str:
    lowered = commitment.text.lower()
    return next((activity for pattern, activity in _ACTIVITIES if re.search(pattern, lowered)), _DEFAULT_ACTIVITY)


def delivery_sentence(commitment: Commitment) -> str:
    """How a commitment will be delivered, phrased so that it reads whether it starts with a noun or a verb."""
    activity = _activity(commitment)
    if _NOUN_START.match(commitment.text):
        return f"To deliver {_lower_first(commitment.text)}, we will {activity}."
    return f"For our commitment to {_lower_first(commitment.text)}, we will {activity}."


def _when(timeframe: str) -> str:
    """A timeframe as a timeline label: frequencies read "Each year", anything else as written."""
    words = timeframe.lower().split()
    if words and (words[0] in ("a", "per", "each", "every") or len(words) == 1) and words[-1] in _FREQUENCIES:
        return _FREQUENCIES[words[-1]]
    return timeframe


def timeline_sentence(commitment: Commitment) -> str:
    if not commitment.timeframes:
        return f"Timescale to be confirmed: {_lower_first(commitment.text)}."
    when = ", ".join(_when(t) for t in commitment.timeframes)
    what = " ".join(p for p in (commitment.quantity, commitment.what) if p)
    if re.search(r",\s*\w+$", what):  # taking the timeframe out left a dangling word ("…, reviewed")
        what = commitment.text
    return f"{_upper_first(when)}: {_lower_first(what)}."


def measure_sentence(commitment: Commitment) -> str:
    when = f" {', '.join(commitment.timeframes)}" if commitment.timeframes else ""
    what = commitment.what
    if commitment.quantity and commitment.is_percent:
        label = f"Share {what}" if what.lower().startswith("of ") else f"{_upper_first(what)} achieved"
        return f"{label}, against the target of {commitment.quantity}{when}."
    if commitment.quantity and commitment.is_money:
        return f"Amount spent or invested ({what}), against the commitment of {commitment.quantity}{when}."
    if commitment.quantity:
        return f"Number of {_lower_first(what)} delivered, against the target of {commitment.quantity}{when}."
    deadlines = [t for t in commitment.timeframes if _DEADLINE.match(t)]
    if deadlines and not re.search(r",\s*\w+$", what):
        return f"Progress towards {_lower_first(what)}, reported until the milestone ({deadlines[0]}) is met."
    return f"Delivery of the commitment: {_lower_first(commitment.text)}."
