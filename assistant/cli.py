"""The ``pva`` command: thin subcommands that parse options, call one library function and print its result.

Each subcommand imports the library it calls inside the function, deferred for start-up time (``pva --help``
loads neither LangChain nor Chroma).
"""

from __future__ import annotations

import json
import os
from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer
from rich.markup import escape
from rich.table import Table

from ingest.command import console, err_console, ingest_command, progress_bar, run

if TYPE_CHECKING:
    from assistant.config import Settings

app = typer.Typer(
    name="pva",
    help="Public Value Assistant: cited answers and social value drafts from public-sector governance guidance.",
    no_args_is_help=True,
    add_completion=False,
    rich_markup_mode="rich",
)


app.command("ingest")(ingest_command)


def get_settings() -> Settings:
    """The settings from the environment (see :func:`assistant.config.get_settings`)."""
    from assistant.config import get_settings as read  # deferred for start-up time: pydantic-settings is ~60 ms

    return read()


@app.command("status")
def status_command() -> None:
    """Show where the index lives, what is in it, and which models are configured."""
    from assistant.services import get_services
    from assistant.status import collect_status

    status = collect_status(get_services(get_settings()))
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
    cover gets a plain refusal. --json and --jsonl print the public answer format documented in docs/answers.md.
    """
    from assistant.answer import InvalidQuestionError, ask
    from assistant.models.chat import ChatModelError

    settings = get_settings()
    _ensure_index(settings)
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
        err_console.print(f"[red]Cannot answer:[/] {escape(str(exc))}")
        raise typer.Exit(2) from exc
    if json_out:
        print(json.dumps(answer.model_dump(mode="json"), ensure_ascii=False))
        return
    _print_answer(answer)


def _ensure_index(settings) -> None:
    """Build the index from the bundled corpus when it is empty (or an ingest was interrupted), as `pva serve` does."""
    from ingest import ensure_index

    with err_console.status("Building the index from the bundled corpus (first run)…"):
        report = ensure_index(settings)
    if report is not None and report.failed:
        names = ", ".join(f.path for f in report.failed)
        err_console.print(f"[yellow]Some files could not be indexed:[/] {names}")


def _ask_jsonl(path: Path, options: dict) -> None:
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


@app.command("eval")
def eval_command(
    backend: Annotated[
        str | None, typer.Option(help="Backend: extractive, local, openai or ollama (default: PVA_CHAT_BACKEND).")
    ] = None,
    dataset: Annotated[
        list[Path] | None,
        typer.Option(
            help="A JSONL dataset or a bundled set's name, e.g. `documents` (repeatable). "
            "Default: evals/datasets/questions.jsonl and drafts.jsonl."
        ),
    ] = None,
    out: Annotated[
        Path | None, typer.Option(help="Folder for results.json and report.html (default: DATA_DIR/reports/eval-…).")
    ] = None,
    baseline: Annotated[
        Path | None, typer.Option(help="Baseline JSON to compare with; a regressed case fails the run.")
    ] = None,
    thresholds: Annotated[Path | None, typer.Option(help="Thresholds YAML (default: evals/thresholds.yaml).")] = None,
    write_baseline: Annotated[Path | None, typer.Option(help="Also write this run as a baseline to FILE.")] = None,
    limit: Annotated[
        int | None, typer.Option(help="Run a stratified subset of at most N questions (every kind kept).")
    ] = None,
    k: Annotated[int | None, typer.Option("--k", help="Chunks to retrieve (default: PVA_TOP_K).")] = None,
    judge: Annotated[
        str | None,
        typer.Option(help="Optional third judge: nli:/path/to/cross-encoder or llm:BACKEND (PVA_EVAL_JUDGE)."),
    ] = None,
    drafts: Annotated[bool, typer.Option("--drafts/--no-drafts", help="Run the drafting cases too.")] = True,
    live_index: Annotated[
        bool,
        typer.Option(
            "--live-index",
            help="Evaluate the data dir's own index instead of a bundled-corpus one (a set's documents are "
            "uploaded into it).",
        ),
    ] = False,
    distractors: Annotated[
        bool,
        typer.Option(
            "--distractors",
            help="Also index 1,000+ chunks of off-topic documentation (python3-doc's HTML) before running.",
        ),
    ] = False,
    from_feedback: Annotated[
        bool,
        typer.Option("--from-feedback", help="Turn thumbs-down feedback into review cases (--out or evals/datasets/)."),
    ] = False,
) -> None:
    """Run the eval suite: answers, retrieval, citations, refusals, drafts; write results.json and report.html.

    Exits 1 when a metric is below its threshold or a case regressed against --baseline. See docs/evaluation.md
    for how to read the report.
    """
    from evals.dataset import resolve_dataset
    from evals.suite import SuiteOptions

    settings = get_settings()
    if from_feedback:
        _import_feedback(settings, out)
        return
    options = SuiteOptions(
        backend=backend,
        out=out,
        baseline=baseline,
        write_baseline=write_baseline,
        limit=limit,
        k=k,
        judge=judge or os.environ.get("PVA_EVAL_JUDGE"),
        drafts=drafts,
        corpus_index=not live_index,
        distractors=distractors,
    )
    if dataset:
        options.datasets = [resolve_dataset(d) for d in dataset]
    if thresholds:
        options.thresholds = thresholds
    _run_eval(options, settings)


def _run_eval(options, settings) -> None:
    """Run the suite with a progress bar (one line per case in a CI log), print the table, exit 1 on a failed gate."""
    from evals.suite import run_suite

    with progress_bar() as progress:
        task = progress.add_task("Evaluating", total=None)

        def on_case(case) -> None:
            progress.advance(task)
            if not err_console.is_terminal:  # a CI log gets one line per case instead of a progress bar
                seconds = (case.latency_ms or 0) / 1000
                err_console.print(f"{'pass' if case.passed else 'FAIL'} {case.id} ({seconds:.1f} s)")

        try:
            outcome = run_suite(options, settings, on_case=on_case)
        except (OSError, ValueError, RuntimeError) as exc:
            err_console.print(f"[red]Cannot run the eval:[/] {escape(str(exc))}")
            raise typer.Exit(2) from exc
    _print_eval(outcome)
    if not outcome.passed:
        for reason in outcome.result.gate.get("reasons", []):
            err_console.print(f"[red]✗[/] {reason}")
        raise typer.Exit(1)
    console.print("[green]Gate passed.[/]")


def _import_feedback(settings, out: Path | None) -> None:
    from evals.dataset import DATASETS_DIR
    from evals.feedback import import_feedback

    try:
        done = import_feedback(settings, out or DATASETS_DIR)
    except FileNotFoundError as exc:
        err_console.print(f"[red]{exc}[/]")
        raise typer.Exit(2) from exc
    where = f"wrote {done.added} review case(s) to {done.path}" if done.path else "nothing new to write"
    seen = f"{done.down_votes} thumbs-down, {done.existing} already imported, {done.skipped} without a question"
    console.print(f"{seen}: {where}.")


def _print_eval(outcome) -> None:
    from evals.suite import summary_rows

    result = outcome.result
    meta = result.meta
    table = Table(title=f"pva eval — {meta['backend']} · {meta['cases']} cases · {meta['duration_s']} s")
    for column in ("metric", "value", "threshold", "vs baseline"):
        table.add_column(column, justify="left" if column == "metric" else "right")
    for row in summary_rows(result):
        table.add_row(*row)
    console.print(table)
    comparison = result.gate.get("comparison") or {}
    if comparison.get("improved"):
        console.print(f"[green]Improved:[/] {', '.join(comparison['improved'])}")
    failed = [c.id for c in result.cases if not c.passed]
    console.print(f"Failing cases ({len(failed)}): {', '.join(failed) or 'none'}")
    console.print(f"Results: {outcome.json_path}\nReport:  {outcome.html_path}")
    if outcome.baseline_written:
        console.print(f"Baseline written: {outcome.baseline_written}")


@app.command("draft")
def draft_command(
    input_file: Annotated[
        Path, typer.Option("--input", "-i", help="The draft input, a YAML or JSON file (see examples/response.yaml).")
    ],
    out: Annotated[
        Path | None, typer.Option("--out", "-o", help="Also write the draft to FILE: .docx (Word) or .md (Markdown).")
    ] = None,
    backend: Annotated[
        str | None,
        typer.Option(help="Chat backend: extractive (no model), local, openai or ollama (default: PVA_CHAT_BACKEND)."),
    ] = None,
    json_out: Annotated[
        bool, typer.Option("--json", help="Print the sections, citations, flags and word count as JSON.")
    ] = False,
    strict: Annotated[
        bool,
        typer.Option("--strict/--no-strict", help="Remove sentences with invented figures (default) or flag only."),
    ] = True,
) -> None:
    """Draft a social value tender response or statement from your commitments: cited, over-claim checked.

    The input names the Social Value Model outcomes (covid-19-community-recovery, new-businesses-jobs-skills,
    supply-chain-resilience, environmental-stewardship, disability-employment-gap, workforce-inequality,
    health-and-wellbeing, community-cohesion) and your commitments for each. Every number, date, amount and
    name in the draft must come from the input: anything else is flagged and, unless --no-strict, removed.
    Exit status 2 on invalid input, with what to fix.
    """
    from rich.markdown import Markdown

    from assistant.drafting import EXPORT_SUFFIXES, DraftError, draft, load_request, save, to_markdown
    from assistant.models.chat import ChatModelError

    if out is not None and out.suffix.lower() not in EXPORT_SUFFIXES:
        err_console.print(f"[red]Cannot write {out.name}:[/] use a .docx (Word) or .md (Markdown) file name.")
        raise typer.Exit(2)
    try:
        result = draft(load_request(input_file), get_settings(), backend=backend, strict=strict)
    except (DraftError, ChatModelError, ValueError) as exc:
        err_console.print(f"[red]Cannot draft:[/] {escape(str(exc))}")
        raise typer.Exit(2) from exc
    if out is not None:
        save(result, out)
    if json_out:
        print(json.dumps(result.model_dump(mode="json"), ensure_ascii=False))
        return
    console.print(Markdown(to_markdown(result)))
    if out is not None:
        console.print(f"Wrote {out}.")
    limit = "[red]over the limit[/]" if result.over_limit else "within the limit"
    console.print(
        f"[dim]{result.word_count} of {result.word_limit} words ({limit}) · {len(result.flags)} flag(s) · "
        f"{result.backend} · {result.timings_ms.get('total', 0):.0f} ms[/]"
    )


@app.command("serve")
def serve_command(
    host: Annotated[
        str | None, typer.Option(help="Address to listen on, e.g. 0.0.0.0 for every interface (default: PVA_HOST).")
    ] = None,
    port: Annotated[
        int | None, typer.Option(min=1, max=65535, help="Port to listen on (default: PVA_PORT, 7860).")
    ] = None,
) -> None:
    """Start the web app (Chat, Draft, Sources) on --host:--port, else PVA_HOST:PVA_PORT, 127.0.0.1:7860 by default.

    Builds the index from the bundled corpus first if it is missing, and loads the models once. Set
    PVA_AUTH_FILE (lines user:password[:admin]) to require a login; then only admins upload or remove.
    """
    import app as web_app  # deferred for start-up time: the app loads Gradio, LangChain and Chroma

    web_app.main(serve_settings(get_settings(), host, port))


def serve_settings(settings: Settings, host: str | None, port: int | None) -> Settings:
    """``settings`` with the ``--host`` / ``--port`` flags applied: a flag wins over PVA_HOST / PVA_PORT."""
    flags = {"host": host, "port": port}
    return settings.model_copy(update={k: v for k, v in flags.items() if v is not None})


@app.command("bench")
def bench_command(
    sizes: Annotated[
        str, typer.Option(help="Store sizes (chunks) for retrieval and BM25 figures, comma-separated.")
    ] = "10000,100000",
    skip_100k: Annotated[bool, typer.Option("--skip-100k", help="Leave out sizes of 100,000 chunks and more.")] = False,
    skip_server: Annotated[bool, typer.Option("--skip-server", help="Measure the embedded store only.")] = False,
    skip_local: Annotated[bool, typer.Option("--skip-local", help="Leave out the bundled local chat model.")] = False,
    skip_scale: Annotated[
        bool, typer.Option("--skip-scale", help="Leave out the retrieval and BM25 figures at every store size.")
    ] = False,
    skip_cold_start: Annotated[
        bool, typer.Option("--skip-cold-start", help="Do not start app.py (no cold start, no sessions).")
    ] = False,
    skip_startup: Annotated[
        bool, typer.Option("--skip-startup", help="Leave out `pva --help` and the cold `pva ask` per backend.")
    ] = False,
    sessions: Annotated[
        int, typer.Option(min=0, help="Sessions asking the app at once right after it is ready (0 skips).")
    ] = 20,
    install: Annotated[
        bool,
        typer.Option(
            "--install", help="Also time a fresh `make install` (new venv, no pip cache): minutes of downloads."
        ),
    ] = False,
    ingest_only: Annotated[
        bool, typer.Option("--ingest-only", help="Only the ingest figures (chunks/s, re-ingest, memory): a minute.")
    ] = False,
    synthetic_mb: Annotated[float, typer.Option(help="Synthetic text to ingest, in MB (0 skips it).")] = 5.0,
    queries: Annotated[int, typer.Option(min=1, help="Questions timed per search figure.")] = 50,
    answers: Annotated[int, typer.Option(min=1, help="Questions timed per chat backend (local: at most 6).")] = 20,
    json_out: Annotated[bool, typer.Option("--json", help="Print the figures as JSON instead of tables.")] = False,
    out: Annotated[Path | None, typer.Option(help="Also write the figures as JSON to this file.")] = None,
) -> None:
    """Speed and memory figures, each beside its target: `pva --help`, a cold `pva ask` per backend, app start to
    first answer, 20 sessions at once, ingest chunks/s, peak RSS, retrieval and BM25 at 10k/100k chunks
    (embedded and server), warm answer latency per backend, and with --install a fresh install.

    Runs in a temporary folder (a Chroma server is started on 127.0.0.1 for the server figures) and takes
    about ten minutes with the defaults on two cores; the --skip options leave out the slow parts (--skip-scale
    keeps issue 14's start-up rows alone). Large stores use random unit vectors in place of embeddings, written
    and queried through the production store and BM25 code. Speed targets live here, never in timed tests.
    """
    from evals.bench import BenchOptions, run_benchmarks
    from evals.bench_report import rounded

    try:
        size_list = tuple(sorted({int(s) for s in sizes.replace(" ", "").split(",") if s}))
    except ValueError:
        err_console.print(f"[red]--sizes must be whole numbers separated by commas[/], got {sizes!r}.")
        raise typer.Exit(2) from None
    if skip_100k:
        size_list = tuple(s for s in size_list if s < 100_000)
    options = BenchOptions(
        sizes=size_list,
        scale=not (skip_scale or ingest_only),
        server=not (skip_server or skip_scale or ingest_only),
        backends=() if ingest_only else ("extractive",) if skip_local else ("extractive", "local"),
        cold_start=not (skip_cold_start or ingest_only),
        startup=not (skip_startup or ingest_only),
        sessions=0 if ingest_only else sessions,
        install=install,
        synthetic_mb=synthetic_mb,
        queries=queries,
        answer_questions=answers,
        local_questions=min(answers, 6),
    )
    figures = rounded(run_benchmarks(get_settings(), options, progress=lambda m: err_console.print(f"[dim]… {m}[/]")))
    text = json.dumps(figures, indent=2, ensure_ascii=False)
    if out is not None:
        out.parent.mkdir(parents=True, exist_ok=True)
        out.write_text(text + "\n", encoding="utf-8")
    if json_out:
        print(text)
        return
    _print_bench(figures)
    if out is not None:
        console.print(f"Wrote {out}.")


def _print_bench(figures: dict) -> None:
    from evals.bench_report import summary_rows

    table = Table(title="Benchmark figures")
    for column in ("part", "figure", "value"):
        table.add_column(column)
    for row in summary_rows(figures):
        table.add_row(*row)
    console.print(table)
    targets = Table(title="Targets")
    for column in ("target", "measured", "limit", "met"):
        targets.add_column(column)
    for target in figures["targets"]:
        value = target["value"]
        shown = "—" if value is None else f"{value:,.1f} {target['unit']}"
        met = {True: "[green]yes[/]", False: "[red]no[/]", None: "[dim]not measured[/]"}[target["met"]]
        targets.add_row(target["target"], shown, target["limit"], met)
    console.print(targets)


def main() -> None:
    """Entry point of the ``pva`` script."""
    run(app)


if __name__ == "__main__":
    main()
