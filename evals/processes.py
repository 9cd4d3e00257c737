"""Processes and timings for the benchmarks: peak memory, latency percentiles, free ports, waiting for HTTP,
and a ``chroma run`` server started and stopped around a block."""

from __future__ import annotations

import os
import resource
import shutil
import socket
import subprocess
import sys
import time
import urllib.request
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

import numpy as np

SERVER_START_TIMEOUT_S = 60.0


def peak_rss_mb() -> float:
    """Peak resident memory of this process so far, in MB (Linux reports kilobytes)."""
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def process_peak_rss_mb(pid: int) -> float | None:
    """Peak resident memory (``VmHWM``) of a running process, in MB; ``None`` when it cannot be read."""
    try:
        for line in Path(f"/proc/{pid}/status").read_text().splitlines():
            if line.startswith("VmHWM:"):
                return int(line.split()[1]) / 1024
    except (OSError, ValueError, IndexError):
        return None
    return None


def process_cpu_seconds(pid: int) -> float | None:
    """CPU seconds (user + system) a running process has used so far; ``None`` when it cannot be read. On a busy
    machine wall times stretch with the load, CPU seconds much less: the figure to compare across runs."""
    try:
        fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
        return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")
    except (OSError, ValueError, IndexError):
        return None


def percentiles(samples_ms: Sequence[float]) -> dict[str, float]:
    """``p50``, ``p95``, ``mean``, ``min``, ``max`` (ms) and ``n`` of a list of timings in milliseconds."""
    if not samples_ms:
        raise ValueError("no timings to summarise")
    values = np.asarray(samples_ms, dtype=np.float64)
    return {
        "p50": float(np.percentile(values, 50)),
        "p95": float(np.percentile(values, 95)),
        "mean": float(values.mean()),
        "min": float(values.min()),
        "max": float(values.max()),
        "n": len(values),
    }


def time_calls(fn: Callable[[str], object], queries: Sequence[str], warmup: int = 3) -> dict[str, float]:
    """Call ``fn`` on each query and summarise the latencies; the first ``warmup`` calls are not counted."""
    for query in queries[:warmup]:
        fn(query)
    samples = []
    for query in queries:
        started = time.perf_counter()
        fn(query)
        samples.append((time.perf_counter() - started) * 1000)
    return percentiles(samples)


def free_port() -> int:
    """A TCP port on 127.0.0.1 that is free right now (the OS picks it)."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def wait_for_http(url: str, timeout: float, process: subprocess.Popen | None = None, log: Path | None = None) -> float:
    """Poll ``url`` until it answers 200; return the seconds waited. Bounded by ``timeout``.

    Raises ``RuntimeError`` with the end of ``log`` when ``process`` exits first or the time runs out.
    """
    started = time.monotonic()
    deadline = started + timeout
    while time.monotonic() < deadline:
        if process is not None and process.poll() is not None:
            raise RuntimeError(f"{process.args[0]} exited with {process.returncode} before answering:\n{_tail(log)}")
        try:
            with urllib.request.urlopen(url, timeout=5) as response:  # noqa: S310 - loopback only
                if response.status == 200:
                    return time.monotonic() - started
        except OSError:
            time.sleep(0.2)
    raise RuntimeError(f"{url} did not answer within {timeout:.0f}s:\n{_tail(log)}")


def _tail(log: Path | None, lines: int = 30) -> str:
    if log is None:
        return "(no log)"
    try:
        return "\n".join(log.read_text(errors="replace").splitlines()[-lines:])
    except OSError:
        return "(no log)"


def stop_process(process: subprocess.Popen, timeout: float = 30.0) -> None:
    """Stop a subprocess this module started, by its own handle: terminate, then kill if it lingers."""
    if process.poll() is None:
        process.terminate()
        try:
            process.wait(timeout=timeout)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait(timeout=timeout)


@dataclass
class ChromaServer:
    """A ``chroma run`` subprocess on 127.0.0.1: its URL, process handle and log file."""

    url: str
    process: subprocess.Popen
    path: Path
    log: Path

    def peak_rss_mb(self) -> float | None:
        return process_peak_rss_mb(self.process.pid)


def chroma_executable() -> str:
    """The ``chroma`` CLI installed with the chromadb package (beside this Python first, then on PATH)."""
    beside = Path(sys.executable).parent / "chroma"
    if beside.exists():
        return str(beside)
    found = shutil.which("chroma")
    if found is None:
        raise RuntimeError("the `chroma` command is missing: it ships with the chromadb package (pip install chromadb)")
    return found


@contextmanager
def chroma_server(
    path: Path, port: int | None = None, timeout: float = SERVER_START_TIMEOUT_S
) -> Iterator[ChromaServer]:
    """Run ``chroma run --path PATH --host 127.0.0.1 --port PORT`` for the duration of the block.

    Waits (bounded by ``timeout``) for the heartbeat endpoint before yielding, and always stops the process
    on the way out, so a failing benchmark or test never leaves a server behind.
    """
    path.mkdir(parents=True, exist_ok=True)
    port = port or free_port()
    log = path.parent / f"chroma-{port}.log"
    env = {**os.environ, "ANONYMIZED_TELEMETRY": "False"}
    with log.open("wb") as handle:
        process = subprocess.Popen(
            [chroma_executable(), "run", "--path", str(path), "--host", "127.0.0.1", "--port", str(port)],
            stdout=handle,
            stderr=subprocess.STDOUT,
            env=env,
        )
    server = ChromaServer(url=f"http://127.0.0.1:{port}", process=process, path=path, log=log)
    try:
        wait_for_http(f"{server.url}/api/v2/heartbeat", timeout, process, log)
        yield server
    finally:
        stop_process(process)
