"""Chroma server mode behind deploy/'s nginx gate: the token is required, and every app replica sees every ingest."""

from __future__ import annotations

import shutil
from collections.abc import Iterator
from contextlib import ExitStack
from dataclasses import dataclass
from pathlib import Path

import chromadb
import httpx
import pytest

from bench.replicas import start_all
from tests.servers import ROOT, Served, chroma_server, run_ingest, serve_app, wait_for_status

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


@dataclass
class Gated:
    """One Chroma server behind the gate, holding an ingest of `docs`."""

    chroma: Served
    remote: dict[str, str]
    docs: Path
    work: Path


@pytest.fixture(scope="module")
def gated(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Gated]:
    """Two corpus documents ingested into a Chroma server behind the nginx gate (shared: a server takes a while)."""
    work = tmp_path_factory.mktemp("gated")
    docs = work / "docs"
    docs.mkdir()
    for name in ("02-termination-of-the-mandate-2023.md", "03-leadership-and-spokespeople.md"):
        shutil.copy(ROOT / "corpus" / name, docs / name)
    with chroma_server(work / "chroma", TOKEN) as chroma:
        remote = {"chroma_host": "127.0.0.1", "chroma_port": str(chroma.port), "chroma_token": TOKEN}
        run_ingest(work / "unused", docs, **remote).check_returncode()
        yield Gated(chroma, remote, docs, work)


def test_s24_chroma_server_mode_requires_the_token(gated: Gated) -> None:
    with pytest.raises(Exception, match="Unauthorized|401"):  # nginx refuses it; Chroma never sees it
        chromadb.HttpClient(host="127.0.0.1", port=gated.chroma.port).list_collections()
    heartbeat = f"{gated.chroma.url}/api/v2/heartbeat"
    assert httpx.get(heartbeat, headers={"Authorization": "Bearer wrong"}).status_code == 403
    assert httpx.get(heartbeat, headers={"X-Chroma-Token": TOKEN}).status_code == 200
    # The app with the right token is served: every replica below answers through the gate.
    wrong = {**gated.remote, "llm": "extractive", "chroma_token": "wrong-token"}
    with serve_app(gated.work / "unused", gated.work / "bad", None, "/healthz", **wrong) as app:
        assert wait_for_status(app.url + "/readyz", 503)
        refused = httpx.post(f"{app.url}/api/ask", json={"question": FIRST_COMMANDER}, timeout=60)
        assert refused.status_code == 503 and "Search is unavailable" in refused.json()["detail"]


def test_two_replicas_see_an_ingest_that_adds_changes_and_deletes(gated: Gated) -> None:
    docs, remote, work = gated.docs, gated.remote, gated.work
    settings = {"llm": "extractive", **remote}
    with ExitStack() as stack:  # the two replicas start at once, as a deployment's would
        one, two = start_all(
            stack, [serve_app(work / "unused", work / name, **settings) for name in ("one", "two")]
        )
        for replica in (one.url, two.url):
            assert "Kazura" in ask(replica, FIRST_COMMANDER)["answer"]
            assert "15 August 2023" in ask(replica, PLAN_DATE)["answer"]
            assert ask(replica, ARCHIVE)["refused"]
        # One ingest from a third host: a new document, a changed one, a deleted one.
        (docs / "10-archives.md").write_text(NEW_DOC, encoding="utf-8")
        changed = docs / "02-termination-of-the-mandate-2023.md"
        changed.write_text(changed.read_text().replace("15 August 2023", "22 September 2023"))
        (docs / "03-leadership-and-spokespeople.md").unlink()
        report = run_ingest(work / "unused", docs, **remote)
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
