"""The framework corpus: one Markdown file per framework plus ``catalogue.yaml``.

Each Markdown file carries YAML front matter (``id``, ``title``, ``publisher``, ``year``, ``url``,
``licence``) and reproduces the framework text as quoted on the source page, with headings that mirror
the document's structure. ``catalogue.yaml`` is a machine-readable index derived strictly from those texts
(see :mod:`assistant.catalogue`). The folder is a package so that the texts install as package data.
"""

from pathlib import Path

CORPUS_DIR = Path(__file__).parent

__all__ = ["CORPUS_DIR"]
