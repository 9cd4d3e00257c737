"""The ``pva`` command: every subcommand has help text and a README mention; ingest reports and exits right."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest
import typer.main
from typer.testing import CliRunner

from assistant.cli import app

runner = CliRunner()
README = (Path(__file__).parents[1] / "README.md").read_text(encoding="utf-8")


def _commands(group, prefix: str = "pva") -> list[tuple[str, object]]:
    found = []
    for name, command in group.commands.items():
        path = f"{prefix} {name}"
        found.append((path, command))
        if hasattr(command, "commands"):  # a group (typer vendors its own click)
            found.extend(_commands(command, path))
    return found


def test_every_command_has_help_and_a_readme_mention() -> None:
    commands = _commands(typer.main.get_command(app))
    assert {"pva ingest", "pva status", "pva bench"} <= {path for path, _ in commands}
    for path, command in commands:
        assert (command.help or "").strip(), f"{path} has no help text"
        result = runner.invoke(app, [*path.split()[1:], "--help"])
        assert result.exit_code == 0, result.output
        assert "Usage" in result.output
        assert f"`{path}" in README, f"{path} is not mentioned in the README"


def test_ingest_cli_reports_failures_with_exit_status(tmp_path: Path) -> None:
    (tmp_path / "good.md").write_text("# Good\n\nText about governance.\n")
    (tmp_path / "empty.md").write_text("")
    result = runner.invoke(app, ["ingest", str(tmp_path)])
    assert result.exit_code == 1
    assert "1 added" in result.output and "1 file(s) failed" in result.output
    listed = runner.invoke(app, ["ingest", "--list"])
    assert listed.exit_code == 0 and "good" in listed.output
    assert runner.invoke(app, ["ingest", "--remove", "nope"]).exit_code == 1
    assert runner.invoke(app, ["ingest", "--remove", "good"]).exit_code == 0


def test_ingest_cli_rejects_missing_paths(tmp_path: Path) -> None:
    result = runner.invoke(app, ["ingest", str(tmp_path / "missing")])
    assert result.exit_code == 2 and "Not found" in result.output


def test_status_reports_counts(corpus_settings, monkeypatch) -> None:
    from assistant.config import get_settings

    monkeypatch.setenv("PVA_DATA_DIR", str(corpus_settings.data_dir))
    get_settings.cache_clear()
    result = runner.invoke(app, ["status"])
    assert result.exit_code == 0
    assert "chunks" in result.output and "embedded Chroma" in result.output


@pytest.mark.parametrize(
    ("env", "hint"),
    [
        ({"PVA_EMBEDDING_MODEL": "/nonexistent/model"}, "set PVA_EMBEDDING_MODEL"),
        ({"PVA_CHROMA_URL": "http://127.0.0.1:9"}, "unset PVA_CHROMA_URL"),
    ],
    ids=["missing-model-folder", "chroma-server-down"],
)
@pytest.mark.parametrize("command", [["pva", "ask", "What is social value?"], ["python", "-m", "ingest"]])
def test_setup_errors_are_one_line_with_the_fix(tmp_path: Path, env: dict, hint: str, command: list[str]) -> None:
    """The installed entry points (not CliRunner): a wrong setting is an error line and exit 2, no traceback."""
    bin_dir = Path(sys.executable).parent
    argv = [str(bin_dir / "pva"), *command[1:]] if command[0] == "pva" else [sys.executable, *command[1:]]
    full_env = {k: v for k, v in os.environ.items() if not k.startswith("PVA_") or k == "PVA_MODEL_CACHE"}
    full_env |= {"PVA_DATA_DIR": str(tmp_path / "data"), "COLUMNS": "200", **env}
    done = subprocess.run(argv, env=full_env, cwd=tmp_path, capture_output=True, text=True, timeout=120)
    assert done.returncode == 2, done.stderr[-2000:]
    assert "Traceback" not in done.stderr and "error:" in done.stderr
    assert hint in done.stderr


def test_ask_on_an_empty_data_dir_builds_the_index_first(settings) -> None:
    from assistant.services import get_services

    assert get_services(settings).store.count() == 0
    result = runner.invoke(app, ["ask", "When was the Social Value Act introduced?", "--json"])
    assert result.exit_code == 0, result.output
    answer = json.loads(result.output.strip().splitlines()[-1])
    assert answer["refused"] is False and "2012" in answer["answer"]
    assert get_services(settings).store.count() > 0


def test_local_backend_without_its_extra_is_one_clear_error(corpus_settings, monkeypatch) -> None:
    from assistant.config import get_settings

    monkeypatch.setenv("PVA_DATA_DIR", str(corpus_settings.data_dir))
    monkeypatch.setitem(sys.modules, "llama_cpp", None)  # as if the [local] extra were not installed
    get_settings.cache_clear()
    result = runner.invoke(app, ["ask", "What is social value?", "--backend", "local"])
    assert result.exit_code == 2
    assert "pip install 'public-value-assistant[local]'" in " ".join(result.output.split())
    assert "Traceback" not in result.output
