"""Measure chunk size/overlap and retrieval mode on the eval set (extractive answers, no LLM); prints a table.

Usage: python eval/sweep.py [eval/qa.jsonl]
"""

from __future__ import annotations

import sys
import tempfile
from dataclasses import replace
from pathlib import Path

from rag.config import Settings
from rag.evaluate import evaluate, load_items, product_system, summarize
from rag.ingest import ingest
from rag.runtime import Runtime

CHUNKINGS = [(400, 50), (700, 100), (1000, 150), (1500, 200)]
MODES = ["dense", "bm25", "hybrid"]


def main() -> None:
    """Re-index the corpus for each chunking, then evaluate each retrieval mode on it."""
    items = load_items(Path(sys.argv[1] if len(sys.argv) > 1 else "eval/qa.jsonl"))
    base = Settings.from_env(llm="extractive")
    embeddings = Runtime(base).embeddings
    print(
        "| chunk size / overlap | retrieval | chunks | hit@5 | overall (extractive) | unanswerables refused |"
    )
    print("|---|---|---|---|---|---|")
    for size, overlap in CHUNKINGS:
        with tempfile.TemporaryDirectory() as index_dir:
            for mode in MODES:
                settings = replace(
                    base, chunk_size=size, chunk_overlap=overlap, retrieval=mode, index_dir=Path(index_dir)
                )
                runtime = Runtime(settings, embeddings=embeddings)
                summary = ingest([settings.corpus_dir], store=runtime.store, settings=settings)
                s = summarize(evaluate(product_system(runtime), items))
                print(
                    f"| {size} / {overlap} | {mode} | {summary.chunks_total} | {s['hit_at_5']:.1%} | "
                    f"{s['overall']:.1%} | {s['refused_unanswerable']:.0%} |",
                    flush=True,
                )


if __name__ == "__main__":
    main()
