"""The page's own text, style and script: the introductions, citation footnotes, the [n] links that open them,
copying, the upload filter."""

from __future__ import annotations

import json
from collections.abc import Sequence

INTRO = (
    "# Public Value Assistant\n"
    "Ask about good governance, public value and social value in the public sector, or draft a social value "
    "response for a tender."
)
CHAT_INTRO = (
    "Answers come only from the framework texts listed under Sources: each one quotes the passages it uses "
    "and numbers them — press a number such as **[1]** to read the passage. If the texts don't cover a question, "
    "the assistant says so instead of guessing."
)
ABOUT = (
    "The assistant searches the framework texts for the passages closest to your question, answers from them, "
    "and checks every sentence against the passages it cites: a sentence it cannot check is highlighted with ⚠ "
    "or left out. Rate an answer with the thumbs under it; ratings help the maintainers improve it."
)
DRAFT_INTRO = (
    "Draft a social value response to a tender question, or a social value statement. "
    "Pick the Social Value Model outcomes, then type your organisation's own commitments for "
    "each: the draft is built from them and never invents figures."
)
DRAFT_RESULT_INTRO = (
    "### Your draft\nFill in the form and press **Draft**; the word count, what was checked, each "
    "commitment's checklist and the downloads appear here."
)
RESTORE_INTRO = (
    "### Restore the bundled frameworks\nRemoved a framework by mistake? Index the bundled texts again "
    "(uploaded documents are not touched)."
)


def upload_intro(max_upload_mb: int) -> str:
    """The heading and help above the upload box."""
    return (
        f"### Add documents\nPDF, Word (.docx), HTML, Markdown or text, up to {max_upload_mb} "
        "MB each. Headings are kept, so citations can name the section."
    )


CSS = """
.pva-citations { margin-top: .6em; border-top: 1px solid var(--border-color-primary); padding-top: .4em; }
.pva-citation { margin: .25em 0; border-radius: 4px; }
.pva-citation summary { cursor: pointer; }
.pva-citation.pva-flash { outline: 2px solid var(--color-accent); }
.pva-quote { margin: .3em 0 .3em .4em; padding-left: .6em; border-left: 3px solid var(--color-accent); }
.pva-section, .pva-framework { font-size: .9em; opacity: .85; }
mark.pva-unsupported { background: #fff3b0; color: inherit; border-bottom: 2px dotted #b7791f; }
.pva-note { font-size: .9em; color: #8a5a00; }
.pva-ref { font-size: .75em; }
.pva-ref a { text-decoration: none; }
#pva-intro p { margin: 0; }
#pva-status { font-size: .9em; opacity: .9; }
.pva-doc-section summary { cursor: pointer; font-weight: 600; }
.pva-doc-text { white-space: pre-wrap; font-size: .92em; margin: .3em 0 .8em .6em; }
"""

JS = """
(() => {
  // A click on [n] in an answer opens footnote n of that answer and scrolls to it.
  document.addEventListener('click', (event) => {
    const link = event.target.closest && event.target.closest('a[href^="#cite-"]');
    if (!link) return;
    const target = document.getElementById(decodeURIComponent(link.getAttribute('href').slice(1)));
    if (!target) return;
    event.preventDefault();
    target.open = true;
    target.scrollIntoView({block: 'nearest', behavior: 'smooth'});
    target.classList.add('pva-flash');
    setTimeout(() => target.classList.remove('pva-flash'), 1500);
  });
  // The upload box's file picker offers only the types the app reads (the server checks every file again).
  document.addEventListener('click', (event) => {
    const box = event.target.closest && event.target.closest('#pva-upload');
    if (box) box.querySelectorAll('input[type=file]').forEach((input) => { input.accept = __ACCEPT__; });
  }, true);
  // Copy text to the clipboard (the "Copy answer" button).
  window.pvaCopy = async (text) => {
    try {
      await navigator.clipboard.writeText(text);
    } catch (error) {
      const area = document.createElement('textarea');
      area.value = text;
      document.body.appendChild(area);
      area.select();
      document.execCommand('copy');
      area.remove();
    }
  };
})();
"""


def head(upload_suffixes: Sequence[str]) -> str:
    """What the page adds to its ``<head>``: the script, with the file types the upload picker offers."""
    return f"<script>{JS.replace('__ACCEPT__', json.dumps(','.join(upload_suffixes)))}</script>"


COPY_JS = "async (text) => { await window.pvaCopy(text || ''); return []; }"
"""The "Copy answer" button's handler: copies the hidden clean text of the latest answer."""
