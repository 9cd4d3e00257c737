"""The ``ingest`` command: ``pva ingest`` registers it, ``python -m ingest`` runs it alone."""

from __future__ import annotations

import sys
from collections.abc import Callable
from pathlib import Path
from typing import Annotated, Any

import typer
from rich.console import Console
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn
from rich.table import Table

console = Console()
err_console = Console(stderr=True)

COUNTS = ("chunks", "added", "updated", "removed", "unchanged")


def progress_bar() -> Progress:
    """A transient progress bar on stderr (off when stderr is not a terminal)."""
    return Progress(
        TextColumn("[bold]{task.description}"),
        BarColumn(),
        MofNCompleteColumn(),
        TimeElapsedColumn(),
        console=err_console,
        transient=True,
        disable=not err_console.is_terminal,
    )


def ingest_command(
    paths: Annotated[
        list[Path] | None,
        typer.Argument(help="Files or folders to ingest (.md .txt .pdf .docx .html). Default: the bundled corpus/."),
    ] = None,
    list_docs: Annotated[bool, typer.Option("--list", help="List ingested documents and exit.")] = False,
    remove: Annotated[str | None, typer.Option("--remove", metavar="DOC_ID", help="Remove one document.")] = None,
) -> None:
    """Load, chunk, embed and store documents in the index; unchanged files are skipped.

    Re-running is always safe: unchanged chunks are not re-embedded, a changed file replaces exactly its
    old chunks, and an interrupted run is completed. Files that cannot be read are reported and skipped;
    the exit status is 1 if any failed.
    """
    # deferred for start-up time: these load LangChain and Chroma (and pydantic-settings), which `--help` does not need
    from assistant.config import get_settings
    from ingest import ingest_paths, list_documents, remove_document

    settings = get_settings()
    if list_docs:
        print_documents(list_documents(settings))
        return
    if remove:
        removed = remove_document(remove, settings)
        if not removed:
            err_console.print(f"[red]No document '{remove}' in the index.[/] See `pva ingest --list` for the ids.")
            raise typer.Exit(1)
        console.print(f"Removed '{remove}' ({removed} chunks).")
        return
    missing = [p for p in paths or [] if not p.exists()]
    if missing:
        err_console.print(f"[red]Not found:[/] {', '.join(map(str, missing))}. Check the path and try again.")
        raise typer.Exit(2)
    with progress_bar() as progress:
        task = progress.add_task("Embedding", total=None)

        def on_progress(description: str, done: int, total: int) -> None:
            progress.update(task, description=description[:40], completed=done, total=total)

        def on_file(result) -> None:
            if result.error:
                err_console.print(f"[red]skipped[/] {result.path}: {result.error}")

        report = ingest_paths(paths or None, settings, on_progress=on_progress, on_file=on_file)
    _print_report(report)
    if report.failed:
        raise typer.Exit(1)


def _print_report(report: Any) -> None:
    table = Table(title="Ingest")
    for column in ("file", "doc id", *COUNTS, "result"):
        table.add_column(column, justify="right" if column in COUNTS else "left")
    for f in report.files:
        table.add_row(
            Path(f.path).name,
            f.doc_id or "",
            *(str(getattr(f, k)) for k in COUNTS),
            "[green]ok[/]" if f.ok else f"[red]failed[/]: {f.error}",
        )
    console.print(table)
    console.print(report.summary())


def print_documents(docs: Any) -> None:
    """The documents in the index as a table (a hint to ingest when there are none)."""
    table = Table(title="Documents in the index")
    for column in ("doc id", "title", "chunks", "ingested (UTC)", "source"):
        table.add_column(column)
    for d in docs:
        table.add_row(d.doc_id, d.title, str(d.chunks), d.ingested_at, d.source)
    console.print(table)
    if not docs:
        console.print("The index is empty: run `pva ingest` to build it from the bundled corpus.")


def _setup_errors() -> tuple[type[Exception], ...]:
    """Errors that mean the set-up is wrong (a model folder, a backend, the Chroma server), not a bug."""
    # deferred for start-up time: the error classes live beside Chroma and the embedding model
    from assistant.index.store import StoreUnavailableError
    from assistant.models.embeddings import ModelNotFoundError

    return ModelNotFoundError, StoreUnavailableError


def run(entry: Callable[[], object]) -> None:
    """Run a command; a set-up error is one line on stderr saying what to change, and exit status 2."""
    try:
        entry()
    except SystemExit:  # every normal end (``--help``, a finished command): no error classes to import
        raise
    except Exception as exc:
        if not isinstance(exc, _setup_errors()):
            raise
        err_console.print(f"[red]error:[/] {exc}", highlight=False)
        raise SystemExit(2) from None


def main() -> None:
    """Entry point of ``python -m ingest``: the ``pva ingest`` command alone."""
    app = typer.Typer(add_completion=False, rich_markup_mode="rich")
    app.command("ingest")(ingest_command)
    run(lambda: app(args=sys.argv[1:], prog_name="python -m ingest"))
