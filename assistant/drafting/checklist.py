"""The evaluator's checklist: each commitment checked for what a social value evaluator scores (a quantity, a time
frame, measurement and reporting, evidence behind it, a link to its outcome), with a flag per missing element."""

from __future__ import annotations

import re

from assistant.catalogue import Outcome
from assistant.drafting.commitments import Commitment
from assistant.drafting.overclaim import figures
from assistant.drafting.request import DraftRequest
from assistant.drafting.types import CommitmentCheck, DraftFlag
from assistant.text import content_words

__all__ = [
    "ELEMENTS",
    "GAP_FLAG",
    "advice",
    "check_commitment",
    "check_commitments",
    "box_line",
    "check_lines",
    "checked_line",
    "notes",
]

ELEMENTS = ("quantity", "time frame", "measurement and reporting", "evidence", "link to the outcome")
"""What each commitment is checked for, in the order a checklist lists them."""
GAP_FLAG = "commitment_gap"
"""The kind of flag a missing element raises: shown with the checklist, so flag lists leave it out."""

_ADVICE = {
    "quantity": "no quantity: say how many or how much (a number, a percentage or an amount)",
    "time frame": "no time frame: say by when (e.g. “by March 2027”) or how often (e.g. “each year”)",
    "measurement and reporting": "no measurement or reporting: say how progress is measured and to whom it is "
    "reported (the `reporting` field covers every commitment)",
    "evidence": "no evidence given: add a past result or case study on the same kind of work under `evidence`",
    "link to the outcome": "no clear link to the outcome: say how this commitment serves it",
}
_QUANTITY_WORDS = re.compile(r"\b(?:all|zero|half|halve|double|triple|treble|twice)\b", re.I)
_MONTH = r"(?:January|February|March|April|May|June|July|August|September|October|November|December)"
_TIME = re.compile(
    rf"\b(?:19|20)\d\d\b|\b(?:by|before|until|from)\s+(?:the\s+end\s+of\s+)?{_MONTH}\b"
    r"|\bwithin\s+(?:\d+|a|one|two|three|six|twelve)\s+(?:days?|weeks?|months?|years?)\b"
    r"|\b(?:each|every|per|a)\s+(?:term|year|month|quarter|week|annum|day)\b|\b(?:annually|quarterly|monthly|weekly)\b"
    r"|\b(?:over|for|during|throughout)\s+the\s+(?:life\s+of\s+the\s+)?contract\b",
    re.I,
)
_MEASURE = re.compile(
    r"\b(?:measur\w*|report\w*|track\w*|monitor\w*|KPIs?|audit\w*|record\w*|publish\w*|evaluat\w*|verif\w*)\b",
    re.I,
)
# Words that tie a commitment to a Social Value Model outcome, beyond the outcome's own name.
_OUTCOME_WORDS = {
    "covid-19-community-recovery": r"covid|pandemic|recover|vaccin|health|communit|volunteer|isolat|food bank",
    "new-businesses-jobs-skills": r"\bjobs?\b|employ|apprentic|skill|train|placement|internship|recruit|business|"
    r"start-?up|career|hire|work experience|qualif|mentor",
    "supply-chain-resilience": r"supplier|supply chain|\bsmes?\b|vcse|subcontract|spend|local business|procure|"
    r"social enterprise|pay\b.*\bwithin\b",
    "environmental-stewardship": r"emission|carbon|net zero|fleet|electric|waste|recycl|landfill|energy|renewable|"
    r"\btrees?\b|biodivers|green|pollut|plastic|\bwater\b|\bled\b|fuel|climate|air quality",
    "disability-employment-gap": r"disab|accessib|neurodiver|reasonable adjust|supported internship",
    "workforce-inequality": r"equal|gender|pay gap|ethnic|divers|inclusi|living wage|under-?represent|mentor|"
    r"\bwage|fair pay|women|minorit|progression",
    "health-and-wellbeing": r"health|wellbeing|well-being|mental|physical|diet|\bfood\b|meal|exercise|sport|cook|"
    r"nutrition",
    "community-cohesion": r"communit|volunteer|resident|\bevents?\b|tenant|cohesion|neighbour|charit|isolation",
}
# Words too common in commitments and evidence to show that one backs the other.
_GENERIC = content_words("local new year staff people contract council work will deliver provide create support")


def advice(element: str) -> str:
    """What a missing element's flag says: what is missing and what to add."""
    return _ADVICE[element]


def check_lines(check: CommitmentCheck) -> list[tuple[bool, str]]:
    """One (found, text) line per element of a checked commitment: what showed it, or what to add."""
    return [
        (True, f"{element}: {check.found[element]}") if element in check.found else (False, advice(element))
        for element in ELEMENTS
    ]


def box_line(found: bool, text: str) -> str:
    """A checklist line with its box: “☑ quantity: 500” or “☐ no time frame: …”."""
    return f"{'☑' if found else '☐'} {text}"


def checked_line(checked: list[str]) -> str:
    """“Checked: a; b; c.” — what a draft's checks covered (empty when nothing is listed)."""
    return "Checked: " + "; ".join(checked) + "." if checked else ""


def notes(flags: list[DraftFlag]) -> list[DraftFlag]:
    """The flags a flag list shows: all but the :data:`GAP_FLAG` ones, which the checklist shows."""
    return [flag for flag in flags if flag.kind != GAP_FLAG]


def _quantity(commitment: Commitment) -> str:
    text = commitment.text
    for timeframe in commitment.timeframes:  # "over 3 years" is a time frame, not a quantity
        text = text.replace(timeframe, " ")
    amounts = [f.text for f in figures(text) if f.kind != "date"]
    if amounts:
        return ", ".join(amounts)
    match = _QUANTITY_WORDS.search(commitment.text)
    return match.group(0) if match else ""


def _time_frame(commitment: Commitment) -> str:
    if commitment.timeframes:
        return ", ".join(commitment.timeframes)
    match = _TIME.search(commitment.text)
    return match.group(0) if match else ""


def _measurement(commitment: Commitment, request: DraftRequest) -> str:
    match = _MEASURE.search(commitment.text)
    if match:
        return f"“{match.group(0)}” in the commitment"
    reporting = (request.reporting or "").strip().rstrip(".")
    return f"reported {reporting}" if reporting else ""


def _evidence(commitment: Commitment, request: DraftRequest) -> str:
    words = content_words(commitment.text) - _GENERIC
    for item in request.evidence:
        shared = words & content_words(item)
        if shared:
            return item
    return ""


def _link(commitment: Commitment, outcome: Outcome) -> str:
    pattern = _OUTCOME_WORDS.get(outcome.id)
    match = re.search(rf"\w*(?:{pattern})\w*", commitment.text, re.I) if pattern else None
    if match:
        return f"“{match.group(0).strip()}” bears on it"
    shared = (content_words(commitment.text) & content_words(outcome.name)) - _GENERIC
    return "uses the outcome’s own words" if shared else ""


def check_commitment(commitment: Commitment, outcome: Outcome, request: DraftRequest) -> CommitmentCheck:
    """Check one commitment for each of :data:`ELEMENTS`; ``found`` says what showed each one."""
    found = {
        "quantity": _quantity(commitment),
        "time frame": _time_frame(commitment),
        "measurement and reporting": _measurement(commitment, request),
        "evidence": _evidence(commitment, request),
        "link to the outcome": _link(commitment, outcome),
    }
    return CommitmentCheck(
        commitment=commitment.text,
        outcome_id=outcome.id,
        outcome=outcome.name,
        found={element: what for element, what in found.items() if what},
        missing=[element for element in ELEMENTS if not found[element]],
    )


def check_commitments(request: DraftRequest) -> tuple[list[CommitmentCheck], list[DraftFlag]]:
    """Every commitment of ``request`` checked, and a ``commitment_gap`` flag per missing element."""
    us = [request.supplier] if request.supplier else []
    checks: list[CommitmentCheck] = []
    flags: list[DraftFlag] = []
    for _, outcome in request.outcome_pairs():
        for line in request.commitments.get(outcome.id, ()):
            check = check_commitment(Commitment.parse(line, us), outcome, request)
            checks.append(check)
            flags += [
                DraftFlag(
                    kind=GAP_FLAG,
                    text=advice(element),
                    where=f"{outcome.name} › {check.commitment}",
                )
                for element in check.missing
            ]
    return checks, flags
