"""Nothing reaches the network: an ingest and a query run while any non-loopback connect raises."""

from __future__ import annotations

import subprocess
import sys
import textwrap
from pathlib import Path

GUARD = textwrap.dedent(
    """
    import socket, ipaddress
    attempts = []
    _connect = socket.socket.connect
    def guarded(self, address):
        host = address[0] if isinstance(address, tuple) else address
        try:
            loopback = isinstance(host, str) and (host == "localhost" or ipaddress.ip_address(host).is_loopback)
        except ValueError:
            loopback = False
        if self.family == socket.AF_UNIX or loopback:
            return _connect(self, address)
        attempts.append(address)
        raise OSError(f"network access attempted: {address!r}")
    socket.socket.connect = guarded
    _gai = socket.getaddrinfo
    def guarded_gai(host, *args, **kwargs):
        if host not in (None, "localhost", "127.0.0.1", "::1"):
            attempts.append(host)
            raise OSError(f"DNS lookup attempted: {host!r}")
        return _gai(host, *args, **kwargs)
    socket.getaddrinfo = guarded_gai
    """
)

SCRIPT = GUARD + textwrap.dedent(
    """
    import sys
    from pathlib import Path
    from assistant.config import Settings
    from assistant.services import get_services
    from ingest import ingest_paths
    settings = Settings(data_dir=Path(sys.argv[1]))
    report = ingest_paths(None, settings)
    assert not report.failed, report.failed
    hits = get_services(settings).store.vectorstore.similarity_search("cost benchmarking", k=3)
    assert hits, "no hits"
    print("ATTEMPTS", attempts)
    print("HITS", len(hits))
    """
)


def test_ingest_and_query_make_no_network_connections(tmp_path: Path) -> None:
    env_cmd = [sys.executable, "-c", SCRIPT, str(tmp_path / "data")]
    result = subprocess.run(env_cmd, capture_output=True, text=True, timeout=600, cwd=Path(__file__).parents[1])
    assert result.returncode == 0, result.stderr[-3000:]
    assert "ATTEMPTS []" in result.stdout, result.stdout
    assert "HITS 3" in result.stdout
