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


@app.command("ask")
def ask_command(
    question: Annotated[str | None, typer.Argument(help="The question. Omit it when using --jsonl.")] = None,
    backend: Annotated[
        str | None, typer.Option(help="Chat backend: extractive, local, openai or ollama (default: PVA_CHAT_BACKEND).")
    ] = None,
    framework: Annotated[
        list[str] | None, typer.Option("--framework", "-f", help="Only search this document id (repeatable).")
    ] = None,
    k: Annotated[int | None, typer.Option("--k", help="How many chunks to retrieve (default: PVA_TOP_K).")] = None,
    json_out: Annotated[bool, typer.Option("--json", help="Print the answer as one JSON object.")] = False,
    jsonl: Annotated[
        Path | None,
        typer.Option(
            "--jsonl",
            help='Answer every line {"id": ..., "question": ..., "history": [...]} of FILE; print one JSON line each.',
        ),
    ] = None,
) -> None:
    """Answer a question from the framework texts, with numbered citations (title › section, quote).

    Every sentence of the answer is checked against the passage it cites; a question the texts do not
    cover gets a plain refusal. --json and --jsonl print the public answer format documented in the README.
    """
    import json

    from assistant.answer import InvalidQuestionError, ask
    from assistant.chat_models import ChatModelError

    settings = get_settings()
    options = {"settings": settings, "backend": backend, "doc_ids": framework or None, "k": k}
    try:
        if jsonl is not None:
            _ask_jsonl(jsonl, options)
            return
        if question is None:
            err_console.print('[red]No question given.[/] Usage: pva ask "QUESTION" (or --jsonl FILE).')
            raise typer.Exit(2)
        answer = ask(question, **options)
    except (InvalidQuestionError, ChatModelError, ValueError) as exc:
        err_console.print(f"[red]Cannot answer:[/] {exc}")
        raise typer.Exit(2) from exc
    if json_out:
        print(json.dumps(answer.model_dump(mode="json"), ensure_ascii=False))
        return
    _print_answer(answer)


def _ask_jsonl(path: Path, options: dict) -> None:
    import json

    from assistant.answer import InvalidQuestionError, ask

    if not path.exists():
        err_console.print(f"[red]Not found:[/] {path}")
        raise typer.Exit(2)
    failed = 0
    for number, line in enumerate(path.read_text(encoding="utf-8").splitlines(), start=1):
        if not line.strip():
            continue
        try:
            case = json.loads(line)
            answer = ask(case["question"], case.get("history"), question_id=case.get("id", number), **options)
            print(json.dumps(answer.model_dump(mode="json"), ensure_ascii=False), flush=True)
        except (json.JSONDecodeError, KeyError, TypeError, InvalidQuestionError) as exc:
            failed += 1
            error = {"id": number, "error": f"line {number}: {exc.__class__.__name__}: {exc}"}
            print(json.dumps(error, ensure_ascii=False), flush=True)
    if failed:
        raise typer.Exit(1)


def _print_answer(answer) -> None:
    from rich.markdown import Markdown

    console.print(Markdown(answer.answer))
    if answer.citations:
        console.print()
        for c in answer.citations:
            console.print(f"[bold][{c.n}][/] {c.section}\n    [dim]“{c.quote}”[/]")
    if answer.grounding.unsupported:
        label = "removed" if answer.grounding.total > len(answer.sentences) else "not supported by the sources"
        console.print(f"\n[yellow]{len(answer.grounding.unsupported)} sentence(s) {label}.[/]")
    console.print(f"[dim]{answer.backend} · {answer.timings_ms.get('total', 0):.0f} ms[/]")


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
