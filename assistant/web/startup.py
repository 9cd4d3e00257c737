"""Getting ready to serve: where Gradio keeps its files, the logins, the index built if it is missing, the models
loaded and the verifier warmed up; then the options the app is served with."""

from __future__ import annotations

import os
import sys
import threading
import time
from pathlib import Path
from typing import Any

from assistant.config import Settings, get_settings
from assistant.web import page
from assistant.web.access import Access, exposure_warning, load_access

WARMED_UP = "verifier warmed up"
"""Start of the line the app logs when the warm-up is done."""
LOGIN_MESSAGE = "Log in with the account your administrator gave you."


def gradio_temp_dir(settings: Settings) -> Path:
    """Where Gradio keeps uploads and files it serves: under the data dir, like all other state."""
    return (settings.data_dir / "gradio").resolve()


def prepare_gradio_env(settings: Settings) -> None:
    """Point Gradio's temp dir into the data dir. Must run before ``import gradio`` (read at import time)."""
    os.environ.setdefault("GRADIO_TEMP_DIR", str(gradio_temp_dir(settings)))
    os.environ.setdefault("GRADIO_ANALYTICS_ENABLED", "False")


def served_dir(name: str) -> Path:
    """A folder for files the app makes (``drafts``, ``conversations``) inside Gradio's temp dir, which Gradio
    serves as files the app created. Needs :func:`prepare_gradio_env` first."""
    return Path(os.environ["GRADIO_TEMP_DIR"]) / name


def prepare(settings: Settings | None = None) -> None:
    """Build the index if it is missing, and load the models once, before the first user waits for them."""
    # Deferred: these load LangChain and Chroma (importing app stays cheap).
    from assistant.retrieval import search
    from assistant.services import get_services
    from ingest import ensure_index

    services = get_services(settings or get_settings())
    settings = services.settings
    done: dict[str, int] = {}

    def on_progress(description: str, n: int, total: int) -> None:
        if done.get(description) != total and n >= total:
            print(f"  indexed {description} ({total} chunks)", file=sys.stderr, flush=True)
            done[description] = total

    if not services.store.count():
        print("Building the index from the bundled corpus (first run only)…", file=sys.stderr, flush=True)
    report = ensure_index(settings, on_progress, services=services)
    if report is not None and report.failed:
        for failed in report.failed:
            print(f"  skipped {failed.path}: {failed.error}", file=sys.stderr, flush=True)
    try:  # warm up: embeddings, BM25, the grounding checker and the chat model, once per process
        search("social value", settings, k=1, services=services)
        services.checker.score("Social value matters.", ["Social value matters."])
        services.chat_model()
    except Exception as exc:  # the app still starts; the chat shows the error when it is used
        print(f"warning: could not load every model up front ({exc})", file=sys.stderr, flush=True)


def start_warm_up(settings: Settings) -> threading.Thread:
    """Run :func:`assistant.answer.warm_up_verifier` in the background: the app serves at once, and is quick
    from then on."""

    def run() -> None:
        started = time.perf_counter()
        try:
            from assistant.answer import warm_up_verifier  # deferred: loads LangChain and Chroma

            count = warm_up_verifier(settings)
        except Exception as exc:  # only an optimisation: questions still embed what they need
            print(f"warning: could not warm up the verifier ({exc})", file=sys.stderr, flush=True)
            return
        print(f"  {WARMED_UP}: {count} chunks in {time.perf_counter() - started:.1f}s", file=sys.stderr, flush=True)

    thread = threading.Thread(target=run, name="pva-warm-up", daemon=True)
    thread.start()
    return thread


def get_ready(settings: Settings) -> Access:
    """Everything before serving: Gradio's files in the data dir, the logins (with a warning when the app is
    exposed without one), the index and models (:func:`prepare`), the warm-up; returns the logins."""
    prepare_gradio_env(settings)
    access = load_access(settings)
    warning = exposure_warning(settings.host, access)
    if warning:
        print(warning, file=sys.stderr, flush=True)
    prepare(settings)
    start_warm_up(settings)
    return access


def launch_options(settings: Settings, access: Access) -> dict[str, Any]:
    """Gradio's launch options for the app: its address, the login, the upload size limit, no SSR, no stack
    traces, the page's style and script."""
    from ingest.uploads import ALLOWED_SUFFIXES  # deferred: loads LangChain and Chroma (importing app stays cheap)

    return {
        "server_name": settings.host,
        "server_port": settings.port,
        "auth": access.check if access.enabled else None,
        "auth_message": LOGIN_MESSAGE if access.enabled else None,
        "max_file_size": f"{settings.max_upload_mb}mb",
        "show_error": False,
        "ssr_mode": False,
        "footer_links": ["api"],
        "css": page.CSS,
        "head": page.head(ALLOWED_SUFFIXES),
    }
