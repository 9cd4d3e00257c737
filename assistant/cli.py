"""The ``pva`` command: thin subcommands over the public functions of ``ingest`` and ``assistant``.

Every subcommand explains itself with ``--help``. Later subcommands (ask, draft, eval, serve, bench) follow
the same rule: parse options, call one library function, print its result.
"""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Annotated

import typer
from rich.console import Console
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn
from rich.table import Table

from assistant.config import get_settings

app = typer.Typer(
    name="pva",
    help="Public Value Assistant: cited answers and social value drafts from public-sector governance guidance.",
    no_args_is_help=True,
    add_completion=False,
    rich_markup_mode="rich",
)
bench_app = typer.Typer(
    help="Benchmarks that print speed and memory figures (never timed tests).", no_args_is_help=True
)
app.add_typer(bench_app, name="bench")

console = Console()
err_console = Console(stderr=True)


def _progress() -> Progress:
    return Progress(
        TextColumn("[bold]{task.description}"),
        BarColumn(),
        MofNCompleteColumn(),
        TimeElapsedColumn(),
        console=err_console,
        transient=True,
        disable=not err_console.is_terminal,
    )


@app.command("ingest")
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
    from ingest import ingest_paths, list_documents, remove_document

    settings = get_settings()
    if list_docs:
        _print_documents(list_documents(settings))
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
    with _progress() as progress:
        task = progress.add_task("Embedding", total=None)

        def on_progress(description: str, done: int, total: int) -> None:
            progress.update(task, description=description[:40], completed=done, total=total)

        def on_file(result) -> None:
            if result.error:
                err_console.print(f"[red]skipped[/] {result.path}: {result.error}")

        report = ingest_paths(paths or None, settings, on_progress=on_progress, on_file=on_file)
    table = Table(title="Ingest")
    for column in ("file", "doc id", "chunks", "added", "updated", "removed", "unchanged", "result"):
        table.add_column(
            column,
            justify="right" if column in ("chunks", "added", "updated", "removed", "unchanged") else "left",
        )
    for f in report.files:
        table.add_row(
            Path(f.path).name,
            f.doc_id or "",
            *(str(getattr(f, k)) for k in ("chunks", "added", "updated", "removed", "unchanged")),
            "[green]ok[/]" if f.ok else f"[red]failed[/]: {f.error}",
        )
    console.print(table)
    console.print(report.summary())
    if report.failed:
        raise typer.Exit(1)


def _print_documents(docs) -> None:
    table = Table(title="Documents in the index")
    for column in ("doc id", "title", "chunks", "ingested (UTC)", "source"):
        table.add_column(column)
    for d in docs:
        table.add_row(d.doc_id, d.title, str(d.chunks), d.ingested_at, d.source)
    console.print(table)
    if not docs:
        console.print("The index is empty: run `pva ingest` to build it from the bundled corpus.")


@app.command("status")
def status_command() -> None:
    """Show where the index lives, what is in it, and which models are configured."""
    from assistant.status import collect_status

    status = collect_status(get_settings())
    table = Table(title="Public Value Assistant", show_header=False)
    for key, value in status.items():
        table.add_row(key, str(value))
    console.print(table)


@bench_app.command("ingest")
def bench_ingest_command(
    synthetic_mb: Annotated[float, typer.Option(help="Size of the synthetic text to ingest, in MB.")] = 5.0,
    json_out: Annotated[bool, typer.Option("--json", help="Print the figures as JSON.")] = False,
) -> None:
    """Time ingest of the corpus and of a synthetic text in a temporary data dir; print chunks/s and peak RSS."""
    import json

    from assistant.bench import bench_ingest

    figures = bench_ingest(get_settings(), synthetic_mb=synthetic_mb)
    if json_out:
        print(json.dumps(figures, indent=2))
        return
    table = Table(title="Ingest benchmark")
    table.add_column("figure")
    table.add_column("value", justify="right")
    for key, value in figures.items():
        table.add_row(key, f"{value:.2f}" if isinstance(value, float) else str(value))
    console.print(table)


def ingest_main() -> None:
    """Entry point of ``python -m ingest``: the ``pva ingest`` command alone."""
    command = typer.main.get_command(app)
    command.main(args=["ingest", *sys.argv[1:]], prog_name="pva")


def main() -> None:
    app()


if __name__ == "__main__":
    main()
