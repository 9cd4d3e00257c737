"""Errors a user of the app can cause, as one-line messages saying what to do next (never a stack trace)."""

from __future__ import annotations

import logging

log = logging.getLogger(__name__)

UNEXPECTED_ERROR = (
    "⚠ Something went wrong while answering. Try again; if it keeps happening, tell a maintainer "
    "(the details are in the app's log)."
)


def user_error_message(exc: Exception) -> str:
    """A one-line, actionable message for an error the user can fix, or a generic apology (logged) otherwise."""
    # Deferred: these modules load LangChain and Chroma, and importing the web layer (and app.py) stays cheap.
    from assistant.answer import InvalidQuestionError
    from assistant.models.chat import ChatModelError

    if isinstance(exc, InvalidQuestionError):
        text = str(exc)
        return f"⚠ {text[:1].upper()}{text[1:]}"
    if isinstance(exc, ChatModelError):
        return f"⚠ The chat model is not available: {exc}"
    log.exception("unexpected error in the app", exc_info=exc)
    return UNEXPECTED_ERROR
