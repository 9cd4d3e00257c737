"""Start-up figures, each measured in new processes as a user meets them (issue 14's table):

* **CLI start**: the wall time of ``pva --help``.
* **cold first answer**: ``pva ask`` in a new process per backend, the index already built (by ``python -m ingest``).
* **app start → first answer**: ``python app.py`` to its first ``/ask`` answer through ``gradio_client``
  (:func:`evals.bench.bench_cold_start`, which starts the app with :func:`running_app`).
* **sessions**: 20 ``gradio_client`` sessions asking at once as soon as the app answers HTTP, then the same 20
  again warm, with the app's peak RSS.
* **fresh install**, only when asked: a clone in a temporary folder, a new virtual environment and an empty pip
  cache, then ``make install`` and the first index, the part of ``make run`` before the app serves.
"""

from __future__ import annotations

import json
import os
import resource
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from assistant.config import Settings
from evals.bench_data import bench_questions
from evals.processes import (
    free_port,
    percentiles,
    process_cpu_seconds,
    process_peak_rss_mb,
    stop_process,
    wait_for_http,
)

Progress = Callable[[str], None]

ROOT = Path(__file__).resolve().parent.parent
APP_START_TIMEOUT_S = 300.0
ASK_TIMEOUT_S = 600.0
INSTALL_TIMEOUT_S = 3600.0
COLD_QUESTION = "What is social value?"
"""The question of issue 14's cold-answer rows."""


def _noop(_: str) -> None:
    return None


def bench_env(settings: Settings, data_dir: Path, **pva: str) -> dict[str, str]:
    """The environment of a measured process: this one's, without PVA_/GRADIO_ settings, pointed at ``data_dir``
    with the bench's embedding model, plus ``pva`` as ``PVA_<KEY>`` variables."""
    env = {k: v for k, v in os.environ.items() if not k.startswith(("PVA_", "GRADIO_"))}
    env |= {
        "PVA_DATA_DIR": str(data_dir),
        "PVA_EMBEDDING_MODEL": settings.embedding_model,
        "PVA_EMBEDDING_BACKEND": settings.embedding_backend,
        "PYTHONUNBUFFERED": "1",
        "HF_HUB_OFFLINE": "1",
    }
    return env | {f"PVA_{key.upper()}": value for key, value in pva.items()}


def pva_command() -> list[str]:
    """How to run ``pva``: the installed script beside this Python, else ``python -m assistant.cli``."""
    script = Path(sys.executable).parent / "pva"
    return [str(script)] if script.exists() else [sys.executable, "-m", "assistant.cli"]


def build_index(env: dict[str, str], workdir: Path, timeout: float = APP_START_TIMEOUT_S) -> str | None:
    """Ingest the bundled corpus into ``env``'s data dir with ``python -m ingest`` (not timed); an error or None.

    Runs in ``workdir``: a folder named like a package (``corpus``) in the working directory would shadow it.
    """
    workdir.mkdir(parents=True, exist_ok=True)
    built = subprocess.run(
        [sys.executable, "-m", "ingest"], env=env, cwd=workdir, capture_output=True, text=True, timeout=timeout
    )
    return None if built.returncode == 0 else f"`python -m ingest` failed ({built.returncode}): {built.stderr[-500:]}"


def _timed_run(
    argv: list[str], timeout: float, env: dict[str, str] | None = None, cwd: Path | None = None
) -> tuple[subprocess.CompletedProcess, float, float]:
    """Run ``argv`` to its end, its output captured as text; (the result, its wall time, the CPU seconds of it and
    its children)."""
    started, cpu = time.perf_counter(), _children_cpu()
    done = subprocess.run(argv, env=env, cwd=cwd, capture_output=True, text=True, timeout=timeout, check=False)
    return done, time.perf_counter() - started, _children_cpu() - cpu


def _children_cpu() -> float:
    usage = resource.getrusage(resource.RUSAGE_CHILDREN)
    return usage.ru_utime + usage.ru_stime


# --------------------------------------------------------------------------------------------- the CLI


def bench_cli_start(root: Path, repeats: int = 5) -> dict[str, Any]:
    """Wall time of ``pva --help`` in a new process, ``repeats`` times (the first one counted too: it is what a
    user meets after an install, with cold file caches)."""
    samples = []
    for _ in range(repeats):
        done, seconds, _ = _timed_run([*pva_command(), "--help"], timeout=120, cwd=root)
        done.check_returncode()
        samples.append(seconds * 1000)
    return {"help_ms": percentiles(samples)}


def bench_cold_ask(settings: Settings, root: Path, backends: tuple[str, ...], progress: Progress = _noop) -> dict:
    """``pva ask QUESTION --json`` in a new process per backend, on a data dir whose index was built first.

    ``seconds`` is the wall time from process start to exit; ``timings_ms`` the answer's own timings (retrieve,
    generate, verify), so the rest is start-up: imports and loading models.
    """
    workdir = root / "cold-ask"
    env = bench_env(settings, workdir / "data")
    progress("cold ask: building the index for it")
    error = build_index(env, workdir)
    if error:
        return {backend: {"skipped": error} for backend in backends}
    figures: dict[str, Any] = {}
    for backend in backends:
        progress(f"cold ask: `pva ask --backend {backend}` in a new process")
        argv = [*pva_command(), "ask", COLD_QUESTION, "--backend", backend, "--json"]
        done, seconds, cpu = _timed_run(argv, ASK_TIMEOUT_S, env=env, cwd=workdir)
        if done.returncode != 0:
            figures[backend] = {"skipped": f"exit {done.returncode}: {done.stderr.strip()[-500:]}"}
            continue
        answer = json.loads(done.stdout.strip().splitlines()[-1])
        figures[backend] = {"seconds": seconds, "cpu_seconds": cpu, "timings_ms": answer.get("timings_ms", {})}
    return figures


# --------------------------------------------------------------------------------------------- the app


@dataclass
class RunningApp:
    """An ``app.py`` subprocess being measured: its URL, process, start time (``perf_counter``) and folder."""

    url: str
    process: subprocess.Popen
    started: float
    workdir: Path
    log: Path

    def peak_rss_mb(self) -> float | None:
        return process_peak_rss_mb(self.process.pid)

    def cpu_seconds(self) -> float | None:
        return process_cpu_seconds(self.process.pid)

    def client(self) -> Any:
        """A new ``gradio_client`` session with the app."""
        from gradio_client import Client  # deferred: heavy, and only the app figures need it

        return Client(self.url, verbose=False, download_files=str(self.workdir / "downloads"))


@contextmanager
def running_app(env: dict[str, str], workdir: Path, timeout: float = APP_START_TIMEOUT_S) -> Iterator[RunningApp]:
    """Start ``python app.py`` with ``env`` on a free loopback port, wait for its first HTTP 200, stop it after.

    Raises ``RuntimeError`` (with the end of its log) when the app exits or does not answer in ``timeout``.
    """
    script = ROOT / "app.py"
    if not script.is_file():
        raise RuntimeError("app.py is not beside the assistant package (an installed wheel): nothing to start")
    port = free_port()
    log = workdir / "app.log"
    workdir.mkdir(parents=True, exist_ok=True)
    env = env | {"PVA_HOST": "127.0.0.1", "PVA_PORT": str(port)}
    with log.open("wb") as handle:
        started = time.perf_counter()
        process = subprocess.Popen(
            [sys.executable, str(script)], cwd=workdir, env=env, stdout=handle, stderr=subprocess.STDOUT
        )
    try:
        url = f"http://127.0.0.1:{port}/"
        wait_for_http(url, timeout, process, log)
        yield RunningApp(url=url, process=process, started=started, workdir=workdir, log=log)
    finally:
        stop_process(process)


def _ask_at_once(app: RunningApp, questions: list[str]) -> tuple[list[float], list[str]]:
    """Each question in its own thread and ``gradio_client`` session, all released together; (ms each, errors)."""
    barrier = threading.Barrier(len(questions))
    timings: list[float] = []
    errors: list[str] = []

    def session(question: str) -> None:
        barrier.wait()
        started = time.perf_counter()
        try:
            app.client().predict(question, None, api_name="/ask")
            timings.append((time.perf_counter() - started) * 1000)
        except Exception as exc:  # a failed session is a figure, not a crash of the bench
            errors.append(f"{type(exc).__name__}: {exc}")

    threads = [threading.Thread(target=session, args=(q,), daemon=True) for q in questions]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=ASK_TIMEOUT_S)
    return timings, errors


def bench_sessions(settings: Settings, root: Path, sessions: int = 20, progress: Progress = _noop) -> dict[str, Any]:
    """``sessions`` clients asking at once as soon as a fresh app (extractive, index built) answers HTTP, then the
    same questions again at once, warm; each session's time includes connecting (``Client(url)``)."""
    workdir = root / "sessions"
    env = bench_env(settings, workdir / "data", chat_backend="extractive")
    progress("sessions: building the index for the app")
    error = build_index(env, workdir)
    if error:
        return {"skipped": error}
    questions = (bench_questions(kinds=("fact", "paraphrase", "list", "colloquial")) * sessions)[:sessions]
    progress(f"sessions: starting app.py, then {sessions} sessions at once")
    with running_app(env, workdir) as app:
        ready = time.perf_counter() - app.started
        cold, cold_errors = _ask_at_once(app, questions)
        progress(f"sessions: the same {sessions} again, warm")
        warm, warm_errors = _ask_at_once(app, questions)
        figures: dict[str, Any] = {
            "sessions": sessions,
            "ready_seconds": ready,
            "errors": len(cold_errors) + len(warm_errors),
            "error_samples": (cold_errors + warm_errors)[:3],
            "peak_rss_mb": app.peak_rss_mb(),
        }
    if cold:
        figures["cold_ms"] = percentiles(cold)
    if warm:
        figures["warm_ms"] = percentiles(warm)
    return figures


# --------------------------------------------------------------------------------------------- a fresh install


def bench_install(progress: Progress = _noop) -> dict[str, Any]:
    """``make install`` in a fresh clone with a new virtual environment and no pip cache, then the first index.

    Clones the committed state of this repository (``git clone``), so uncommitted changes are not measured.
    Downloads every dependency (torch among them): minutes; run it once, with ``pva bench --install``.
    """
    with tempfile.TemporaryDirectory(prefix="pva-install-") as tmp:
        clone = Path(tmp) / "clone"
        subprocess.run(["git", "clone", "--quiet", str(ROOT), str(clone)], check=True, timeout=300)
        skip = ("PVA_", "PIP_NO_CACHE", "VIRTUAL_ENV", "PYTHONPATH")
        env = {k: v for k, v in os.environ.items() if not k.startswith(skip)} | {"PIP_NO_CACHE_DIR": "1"}
        python = getattr(sys, "_base_executable", sys.executable)
        progress("install: `make install` in a fresh clone, new venv, no pip cache (minutes)")
        done, install_seconds, _ = _timed_run(["make", "install", f"PYTHON={python}"], INSTALL_TIMEOUT_S, env, clone)
        if done.returncode != 0:
            return {"skipped": f"make install failed ({done.returncode}): {(done.stdout + done.stderr)[-800:]}"}
        progress("install: the first `pva ingest` with the fresh install")
        env |= {"PVA_DATA_DIR": str(Path(tmp) / "data")}
        done, index_seconds, _ = _timed_run(
            [str(clone / ".venv" / "bin" / "pva"), "ingest"], APP_START_TIMEOUT_S, env, clone
        )
        figures = {"install_seconds": install_seconds, "index_seconds": index_seconds}
        if done.returncode != 0:
            figures["index_error"] = done.stderr[-500:]
        figures["run_seconds"] = install_seconds + index_seconds
        return figures
