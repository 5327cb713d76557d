"""Command line: ingest, ask, eval, serve."""

from __future__ import annotations

import argparse
import json
import logging
import sys
from pathlib import Path

from rag.config import Settings
from rag.errors import RagError
from rag.logs import install_redaction


def main(argv: list[str] | None = None) -> int:
    """Parse arguments and run a command; errors print one clear line and exit 1."""
    parser = argparse.ArgumentParser(prog="python -m rag", description=__doc__)
    parser.add_argument("-v", "--verbose", action="store_true", help="log details to stderr")
    commands = parser.add_subparsers(dest="command", required=True)

    ingest = commands.add_parser("ingest", help="build or update the index from documents")
    ingest.add_argument("paths", nargs="*", type=Path, help="files or folders (default: RAG_CORPUS_DIR)")
    ingest.add_argument("--quiet", action="store_true", help="no progress bar")

    ask = commands.add_parser("ask", help="answer one question")
    ask.add_argument("question")
    ask.add_argument("--history", type=Path, help='JSON list of {"role": "user"|"assistant", "content": ...}')
    ask.add_argument("--json", action="store_true", help="print the answer as one JSON object")

    evaluate = commands.add_parser("eval", help="run an evaluation set")
    evaluate.add_argument("file", type=Path, help="a JSONL question file, or a folder of them")
    evaluate.add_argument("--split", default="all", choices=("dev", "test", "all"), help="items by id hash")
    evaluate.add_argument("--out", type=Path, help="write per-question results here (JSONL)")
    evaluate.add_argument("--system", default="product", help="product | tutorial | closest-sentence | all")
    evaluate.add_argument("--report", type=Path, help="append the systems' figures to this Markdown file")

    commands.add_parser("serve", help="serve the chat and API on RAG_HOST:RAG_PORT")

    args = parser.parse_args(argv)
    install_redaction()
    logging.basicConfig(
        level=logging.INFO if args.verbose else logging.WARNING,
        format="%(asctime)s %(levelname)s %(name)s: %(message)s",
    )
    try:
        settings = Settings.from_env()
        return COMMANDS[args.command](args, settings)
    except RagError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 1


def run_ingest(args: argparse.Namespace, settings: Settings) -> int:
    """Ingest and print the summary."""
    from rag.ingest import ingest
    from rag.store import BundledEmbeddings, Store

    embeddings = BundledEmbeddings(settings)
    summary = ingest(
        args.paths or [settings.corpus_dir],
        store=Store(settings, embeddings),
        settings=settings,
        progress=not args.quiet and sys.stderr.isatty(),
    )
    print("\n".join(summary.lines()))
    if embeddings.load_seconds:
        print(f"of which loading the embedding model: {embeddings.load_seconds:.2f} s")
    return 0


def run_ask(args: argparse.Namespace, settings: Settings) -> int:
    """Answer one question, as text or JSON."""
    from rag.errors import InputRejected
    from rag.runtime import Runtime

    history = []
    if args.history:
        try:
            history = json.loads(args.history.read_text(encoding="utf-8"))
        except (OSError, json.JSONDecodeError) as exc:
            raise InputRejected(f"cannot read history file {args.history}: {exc}") from exc
        if not isinstance(history, list):
            raise InputRejected("history must be a JSON list")
    assistant = Runtime(settings).assistant
    if args.json:
        print(json.dumps(assistant.ask(args.question, history).to_json(), ensure_ascii=False))
        return 0
    answer = None
    for event in assistant.stream(args.question, history):
        answer = event.final or answer
    assert answer is not None
    print(answer.answer)
    for source in answer.sources:
        print(f"[{source.n}] {source.title} ({source.source})")
    return 0


def run_eval(args: argparse.Namespace, settings: Settings) -> int:
    """Run the evaluation set and print the scores."""
    from rag.evaluate import run

    return run(args.file, args.out, settings, args.system, args.report, args.split)


def run_serve(args: argparse.Namespace, settings: Settings) -> int:
    """Serve the app with uvicorn."""
    import uvicorn

    from rag.api import Service, server_options

    service = Service.started(settings)  # the models load while the web layer imports
    from rag.ui import create_app

    uvicorn.run(create_app(settings, service), log_level="warning", **server_options(settings))  # type: ignore[arg-type]
    return 0


COMMANDS = {"ingest": run_ingest, "ask": run_ask, "eval": run_eval, "serve": run_serve}
