"""Drafting social value responses and statements from a bidder's commitments: cited, over-claim checked, exported.

The public API; the modules behind it are request, types, guidance, commitments, compose, prose, checks, engine,
overclaim and export.
"""

from assistant.drafting.engine import draft
from assistant.drafting.export import EXPORT_SUFFIXES, save, to_docx, to_markdown
from assistant.drafting.overclaim import Invented, find_invented
from assistant.drafting.request import (
    DEFAULT_WORD_LIMIT,
    MAX_WORD_LIMIT,
    MIN_WORD_LIMIT,
    DraftError,
    DraftInputError,
    DraftRequest,
    load_request,
    parse_request,
)
from assistant.drafting.types import Draft, DraftBlock, DraftFlag, DraftItem, DraftPart, DraftSection, count_words

__all__ = [
    "DEFAULT_WORD_LIMIT",
    "EXPORT_SUFFIXES",
    "MAX_WORD_LIMIT",
    "MIN_WORD_LIMIT",
    "Draft",
    "DraftBlock",
    "DraftError",
    "DraftFlag",
    "DraftInputError",
    "DraftItem",
    "DraftPart",
    "DraftRequest",
    "DraftSection",
    "Invented",
    "count_words",
    "draft",
    "find_invented",
    "load_request",
    "parse_request",
    "save",
    "to_docx",
    "to_markdown",
]
