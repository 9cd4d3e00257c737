"""Which way imports point, and how long a file may grow: the rules of docs/architecture.md, read from the code.

Imports are read with ``ast`` from every module, those inside functions included (a deferred import is still a
dependency). ``assistant/cli.py`` is the command-line composition root beside ``app.py``: it starts the app, the
evals and the benchmarks, so it alone in ``assistant/`` may import ``app``, ``evals`` and ``ingest`` freely.

Modules that do not follow a rule yet are listed in ``NOT_YET`` and run as strict expected failures: when one is
fixed its test passes, the strict mark fails, and its entry must go.
"""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

ROOT = Path(__file__).parents[1]
MAX_LINES = 600
MAX_FUNCTION_LINES = 80

NOT_YET: dict[tuple[str, str], str] = {
}
"""(rule, file) → why the file breaks the rule today."""

CORE_FOR_INDEX_AND_MODELS = ("config", "types", "text", "offline", "index", "models")


def _files(*patterns: str) -> list[Path]:
    return sorted({path for pattern in patterns for path in ROOT.glob(pattern)})


def _module_name(path: Path, root: Path) -> str:
    parts = list(path.relative_to(root).with_suffix("").parts)
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def imports(path: Path, root: Path = ROOT) -> set[str]:
    """Every module ``path`` imports, absolute, with each parent package (``a.b.c`` gives a, a.b, a.b.c)."""
    package = _module_name(path, root).split(".")
    if path.name != "__init__.py":
        package = package[:-1]
    found: set[str] = set()
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.Import):
            found.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom):
            base = package[: len(package) - node.level + 1] if node.level else []
            module = ".".join([*base, *(node.module.split(".") if node.module else [])])
            found.add(module)
            found.update(f"{module}.{alias.name}" for alias in node.names)  # ``from a import b`` may be module a.b
    return {".".join(name.split(".")[:n]) for name in found for n in range(1, name.count(".") + 2)}


def _cases(rule: str, paths: list[Path]) -> list:
    """One pytest case per file, marked as a strict expected failure when ``NOT_YET`` lists it for ``rule``."""
    cases = []
    for path in paths:
        name = path.relative_to(ROOT).as_posix()
        reason = NOT_YET.get((rule, name))
        marks = [pytest.mark.xfail(strict=True, reason=reason)] if reason else []
        cases.append(pytest.param(path, id=name, marks=marks))
    return cases


def _forbidden(path: Path, forbidden: tuple[str, ...]) -> list[str]:
    return sorted(name for name in imports(path) if name in forbidden)


ASSISTANT = _files("assistant/**/*.py")
CLI = ROOT / "assistant" / "cli.py"
WEB = ROOT / "assistant" / "web"
CORE = [p for p in ASSISTANT if p != CLI and WEB not in p.parents]


@pytest.mark.parametrize("path", _cases("evals or app", [p for p in ASSISTANT if p != CLI]))
def test_assistant_does_not_import_evals_or_the_app(path: Path) -> None:
    assert _forbidden(path, ("evals", "app")) == []


@pytest.mark.parametrize("path", _cases("ingest", CORE))
def test_only_the_cli_and_web_rooms_import_ingest(path: Path) -> None:
    assert _forbidden(path, ("ingest",)) == []


@pytest.mark.parametrize("path", _cases("gradio", _files("assistant/web/**/*.py")))
def test_the_web_room_does_not_import_gradio(path: Path) -> None:
    assert _forbidden(path, ("gradio",)) == []


@pytest.mark.parametrize("path", _cases("front ends", _files("ingest/**/*.py")))
def test_ingest_does_not_import_the_front_ends_or_evals(path: Path) -> None:
    assert _forbidden(path, ("app", "assistant.web", "assistant.cli", "evals")) == []


@pytest.mark.parametrize("path", _cases("core", _files("assistant/index/**/*.py", "assistant/models/**/*.py")))
def test_index_and_models_import_only_the_core(path: Path) -> None:
    allowed = {"assistant", *(f"assistant.{name}" for name in CORE_FOR_INDEX_AND_MODELS)}
    outside = sorted(
        name for name in imports(path) if name.startswith("assistant.") and ".".join(name.split(".")[:2]) not in allowed
    )
    assert outside == []


@pytest.mark.parametrize(
    "path", _cases("size", _files("assistant/**/*.py", "ingest/**/*.py", "evals/**/*.py", "app.py"))
)
def test_no_file_is_over_600_lines(path: Path) -> None:
    lines = len(path.read_text(encoding="utf-8").splitlines())
    assert lines <= MAX_LINES, f"{lines} lines"


LONG_BY_DESIGN: set[tuple[str, str]] = set()
"""(file, function) of tables of data clearer whole than split; none today."""


def long_functions(path: Path, limit: int = MAX_FUNCTION_LINES) -> list[str]:
    """Functions (methods and nested ones included) of ``path`` longer than ``limit`` lines, as ``name: lines``."""
    name = path.relative_to(ROOT).as_posix() if path.is_relative_to(ROOT) else path.name
    found = []
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef) and (name, node.name) not in LONG_BY_DESIGN:
            lines = node.end_lineno - node.lineno + 1
            if lines > limit:
                found.append(f"{node.name}: {lines}")
    return found


@pytest.mark.parametrize(
    "path", _cases("function size", _files("assistant/**/*.py", "ingest/**/*.py", "evals/**/*.py", "app.py"))
)
def test_no_function_is_over_80_lines(path: Path) -> None:
    assert long_functions(path) == []


def test_the_function_length_reader_sees_methods_and_nested_functions(tmp_path: Path) -> None:
    module = tmp_path / "sample.py"
    short = ["def short():", *["    x = 1"] * 3, ""]
    body = ["            x = 1"] * 8
    long = ["class A:", "    def long(self):", "        def inner():", *body, "        return inner"]
    module.write_text("\n".join([*short, *long]) + "\n", encoding="utf-8")
    assert sorted(long_functions(module, limit=5)) == ["inner: 9", "long: 11"]


def test_the_import_reader_sees_what_the_rules_need(tmp_path: Path) -> None:
    """Imports inside functions, relative imports and ``from package import module`` are all seen."""
    package = tmp_path / "assistant" / "index"
    package.mkdir(parents=True)
    module = package / "sample.py"
    module.write_text(
        "import os\nfrom . import bm25\nfrom ..web.chat import respond\n\n"
        "def later():\n    from evals import bench\n    import gradio as gr\n",
        encoding="utf-8",
    )
    found = imports(module, root=tmp_path)
    assert {"os", "assistant.index.bm25", "assistant.web", "assistant.web.chat", "evals", "evals.bench", "gradio"} <= (
        found
    )
    assert "assistant.index.sample" not in found


def test_every_known_exception_names_a_file_and_a_rule() -> None:
    rules = {"evals or app", "ingest", "gradio", "front ends", "core", "size", "function size"}
    assert sorted(rule for rule, _ in NOT_YET if rule not in rules) == []
    assert sorted(name for _, name in NOT_YET if not (ROOT / name).is_file()) == [], "drop entries of moved files"
