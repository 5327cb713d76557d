"""Several app replicas on one Chroma server (behind deploy/'s nginx gate): every replica sees every ingest."""

from __future__ import annotations

import shutil
from pathlib import Path

import httpx

from tests.servers import ROOT, chroma_server, run_ingest, serve_app

TOKEN = "replica-test-token"
FIRST_COMMANDER = "Who was the first force commander of MINUSMA?"
PLAN_DATE = (
    "By what date did the Council ask the Secretary-General for a plan for transferring MINUSMA's tasks?"
)
ARCHIVE = "When was the Timbuktu archive of MINUSMA handed to the Ahmed Baba Institute?"
NEW_DOC = """---
title: MINUSMA's archives after the withdrawal
date: 2024-03-01
---

## The Timbuktu archive

The Timbuktu archive of MINUSMA, its field records from the region, was handed to the Ahmed Baba Institute on
4 February 2024. The institute keeps it in its reading room in Timbuktu.
"""


def ask(url: str, question: str) -> dict:
    response = httpx.post(f"{url}/api/ask", json={"question": question}, timeout=60)
    assert response.status_code == 200, response.text
    return response.json()


def test_two_replicas_see_an_ingest_that_adds_changes_and_deletes(tmp_path: Path) -> None:
    docs = tmp_path / "docs"
    docs.mkdir()
    for name in ("02-termination-of-the-mandate-2023.md", "03-leadership-and-spokespeople.md"):
        shutil.copy(ROOT / "corpus" / name, docs / name)
    with chroma_server(tmp_path / "chroma", TOKEN) as chroma:
        remote = {"chroma_host": "127.0.0.1", "chroma_port": str(chroma.port), "chroma_token": TOKEN}
        run_ingest(tmp_path / "unused", docs, **remote).check_returncode()
        settings = {"llm": "extractive", **remote}
        with (
            serve_app(tmp_path / "unused", tmp_path / "one", **settings) as one,
            serve_app(tmp_path / "unused", tmp_path / "two", **settings) as two,
        ):
            for replica in (one.url, two.url):
                assert "Kazura" in ask(replica, FIRST_COMMANDER)["answer"]
                assert "15 August 2023" in ask(replica, PLAN_DATE)["answer"]
                assert ask(replica, ARCHIVE)["refused"]
            # One ingest from a third host: a new document, a changed one, a deleted one.
            (docs / "10-archives.md").write_text(NEW_DOC, encoding="utf-8")
            changed = docs / "02-termination-of-the-mandate-2023.md"
            changed.write_text(changed.read_text().replace("15 August 2023", "22 September 2023"))
            (docs / "03-leadership-and-spokespeople.md").unlink()
            report = run_ingest(tmp_path / "unused", docs, **remote)
            assert "1 added, 1 updated, 1 removed" in report.stdout, report.stdout
            for replica in (one.url, two.url):  # no restart
                archive = ask(replica, ARCHIVE)
                assert "4 February 2024" in archive["answer"] and archive["sources"][0]["source"].endswith(
                    "10-archives.md"
                )
                plan = ask(replica, PLAN_DATE)
                assert "22 September 2023" in plan["answer"] and "15 August" not in plan["answer"]
                commander = ask(replica, FIRST_COMMANDER)
                assert "Kazura" not in commander["answer"]
                assert all("03-leadership" not in s["source"] for s in commander["sources"])
            for served in (one, two):
                assert served.log.read_text().count("the index changed (an ingest ran); reopening it") == 1
