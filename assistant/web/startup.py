"""Getting ready to serve: build the index if it is missing, load the models, warm the verifier up."""

from __future__ import annotations

import sys
import threading
import time

from assistant.config import Settings, get_settings

WARMED_UP = "verifier warmed up"
"""Start of the line the app logs when the warm-up is done."""


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
