"""The ``pva`` command starts at once: importing it, and every ``--help``, loads none of the heavy libraries.

Checked in a fresh interpreter (this test process has long imported them); no timings are asserted here, the
wall time of ``pva --help`` is a figure of ``pva bench``.
"""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import typer.main

from assistant.cli import app

ROOT = Path(__file__).resolve().parents[1]
HEAVY = ("torch", "chromadb", "gradio", "langchain", "langchain_core", "sentence_transformers", "llama_cpp")


def _loaded_after(code: str) -> list[str]:
    """The heavy modules in ``sys.modules`` after running ``code`` in a new Python process."""
    script = f"{code}\nimport json, sys\nprint(json.dumps([m for m in {HEAVY!r} if m in sys.modules]))"
    done = subprocess.run(
        [sys.executable, "-c", script], cwd=ROOT, capture_output=True, text=True, timeout=120, check=True
    )
    return json.loads(done.stdout.strip().splitlines()[-1])


def test_importing_the_cli_loads_no_heavy_library() -> None:
    assert _loaded_after("import assistant.cli") == []


def test_every_help_loads_no_heavy_library() -> None:
    """Through ``main()`` as the ``pva`` script runs it, so the exit path (typer ends with SystemExit) counts too."""
    names = [[], *([name] for name in typer.main.get_command(app).commands)]
    assert len(names) > 5
    code = f"""
import contextlib, io, sys
from assistant.cli import main
for name in {names!r}:
    sys.argv = ["pva", *name, "--help"]
    try:
        with contextlib.redirect_stdout(io.StringIO()):
            main()
    except SystemExit as exit:
        assert exit.code in (0, None), (name, exit.code)
"""
    assert _loaded_after(code) == []
