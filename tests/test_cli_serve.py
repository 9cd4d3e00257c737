"""``pva serve --host/--port``: the flags win over PVA_HOST / PVA_PORT, and the app listens where they say."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

from assistant.cli import serve_settings
from assistant.config import Settings
from evals.processes import free_port, stop_process, wait_for_http

ROOT = Path(__file__).resolve().parents[1]


def test_flags_win_over_the_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("PVA_HOST", "127.0.0.2")
    monkeypatch.setenv("PVA_PORT", "7001")
    from_env = Settings()
    assert (from_env.host, from_env.port) == ("127.0.0.2", 7001)
    assert (serve_settings(from_env, None, 7002).host, serve_settings(from_env, None, 7002).port) == ("127.0.0.2", 7002)
    both = serve_settings(from_env, "0.0.0.0", 7003)
    assert (both.host, both.port) == ("0.0.0.0", 7003)
    assert serve_settings(from_env, None, None) == from_env


@pytest.mark.slow
def test_serve_listens_on_the_port_flag(tmp_path: Path) -> None:
    """A real ``pva serve --port P`` with PVA_PORT naming another port: the page answers on P."""
    port, env_port = free_port(), free_port()
    env = {k: v for k, v in os.environ.items() if not k.startswith(("PVA_", "GRADIO_"))}
    env |= {"PVA_DATA_DIR": str(tmp_path / "data"), "PVA_PORT": str(env_port), "PYTHONUNBUFFERED": "1"}
    log = tmp_path / "serve.log"
    argv = [sys.executable, "-m", "assistant.cli", "serve", "--host", "127.0.0.1", "--port", str(port)]
    with log.open("wb") as handle:
        process = subprocess.Popen(argv, cwd=ROOT, env=env, stdout=handle, stderr=subprocess.STDOUT)
    try:
        wait_for_http(f"http://127.0.0.1:{port}/", 300, process, log)
    finally:
        stop_process(process)
