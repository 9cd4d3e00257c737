"""The page's own style and script: citation footnotes, the [n] links that open them, copying, the upload filter."""

from __future__ import annotations

import json
from collections.abc import Sequence

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
