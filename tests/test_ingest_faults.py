"""Ingestion under faults, as an operator meets them: killed midway, bad documents. Safety checklist S25."""

from __future__ import annotations

import json
import re
import shutil
import signal
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

from rag.config import Settings
from rag.ingest import EMBED_BATCH, chunk_document, discover, load_document
from rag.runtime import Runtime
from tests.servers import ROOT, clean_env, run_ingest


def test_ingest_killed_midway_finishes_on_the_next_run_with_each_chunk_once(tmp_path: Path) -> None:
    docs = tmp_path / "docs"
    shutil.copytree(ROOT / "corpus", docs)
    for n in range(2):  # more text than one embedding batch, so that the kill lands between batches
        for source in (ROOT / "corpus").glob("0*.md"):
            shutil.copy(source, docs / f"copy{n}-{source.name}")
    settings = Settings()  # the defaults, as the ingest below runs with a clean environment
    files = discover([docs])[0]
    expected = sum(
        len(chunk_document(load_document(path, 10**8), path.name, "hash", settings)) for path in files
    )
    assert expected > EMBED_BATCH
    index = tmp_path / "killed"
    env = clean_env(RAG_INDEX_DIR=str(index))
    proc = subprocess.Popen([sys.executable, "-m", "rag", "ingest", "--quiet", str(docs)], env=env, cwd=ROOT)
    database = index / "chroma.sqlite3"
    deadline = time.monotonic() + 120
    size = 0
    while time.monotonic() < deadline and proc.poll() is None:
        if database.exists():
            size = size or database.stat().st_size
            if database.stat().st_size > size:  # the first chunks are in
                break
        time.sleep(0.02)
    proc.send_signal(signal.SIGKILL)
    proc.wait()
    resumed = ingest_report(index, docs)
    assert resumed["embedded"] > 0 and resumed["total"] == expected, (resumed, expected)
    again = ingest_report(index, docs)
    assert again["embedded"] == 0 and again["total"] == expected


def ingest_report(index: Path, *paths: Path, **settings: str) -> dict[str, Any]:
    """Run `python -m rag ingest` and read its report."""
    done = run_ingest(index, *paths, **settings)
    assert done.returncode == 0 and "Traceback" not in done.stderr, done.stderr
    chunks = re.search(r"chunks: (\d+) embedded, (\d+) in the index", done.stdout)
    assert chunks, done.stdout
    return {"embedded": int(chunks.group(1)), "total": int(chunks.group(2)), "out": done.stdout}


EMPTY_PDF = (
    b"%PDF-1.4\n1 0 obj<</Type/Catalog/Pages 2 0 R>>endobj\n2 0 obj<</Type/Pages/Kids[3 0 R]/Count 1>>endobj\n"
    b"3 0 obj<</Type/Page/Parent 2 0 R/MediaBox[0 0 612 792]>>endobj\ntrailer<</Root 1 0 R>>\n%%EOF\n"
)


def test_s25_bad_documents_are_reported_and_skipped_the_rest_ingested_once(
    tmp_path: Path, embeddings
) -> None:  # noqa: ANN001
    docs = tmp_path / "docs"
    docs.mkdir()
    (docs / "good.md").write_text(
        "---\ntitle: Good\n---\n\nThe Ansongo camp was the ninth camp handed over.\n"
    )
    (docs / "empty.txt").write_bytes(b"")
    (docs / "binary.txt").write_bytes(bytes(range(256)) * 40)
    (docs / "huge.txt").write_text("The mission had many camps. " * 4000)
    (docs / "latin1.txt").write_bytes("La ville de Ségou accueillit une base de la mission.".encode("cp1252"))
    (docs / "notext.pdf").write_bytes(EMPTY_PDF)
    (docs / "page.html").write_text(
        "<html><body><p>The Timbuktu camp closed in December 2023.</p><script>alert('x')</script>"
        '<p style="display:none">The secret codeword is PELICAN.</p><img src=x onerror="alert(1)"></body></html>'
    )
    (docs / "hidden.md").write_text(
        "The Kidal con\u200bvoy reached Gao.\u200b\u200b\u2060 Zero\u200dwidth text ends here.\n"
    )
    first = ingest_report(tmp_path / "index", docs, max_file_mb="0.05")
    out = str(first["out"])
    for name in ("empty.txt", "binary.txt", "huge.txt", "notext.pdf"):
        assert f"docs/{name}:" in out or f"{name}:" in out, (name, out)
    assert "4 added" in out and "4 skipped" in out, out
    again = ingest_report(tmp_path / "index", docs, max_file_mb="0.05")
    assert again["embedded"] == 0 and again["total"] == first["total"] and "4 unchanged" in str(again["out"])
    assert "loading the embedding model" not in str(again["out"]), "an unchanged re-ingest loads no model"
    assistant = Runtime(
        Settings(index_dir=tmp_path / "index", llm="extractive"), embeddings=embeddings
    ).assistant
    for question, absent in (
        ("What is the secret codeword?", "PELICAN"),
        ("Did the Kidal convoy reach Gao?", "\u200b"),
    ):
        answer = assistant.ask(question).to_json()
        assert absent not in json.dumps(answer, ensure_ascii=False), answer
        assert all(absent not in s["text"] for s in answer["sources"])
