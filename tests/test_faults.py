"""Faults and load, as an operator meets them: the LLM server stalls or dies, the index is deleted or corrupted,
ingestion is killed, bad documents arrive, fifty chats land at once. Safety checklist S09–S11, S13, S14, S16, S25."""

from __future__ import annotations

import json
import os
import re
import shutil
import signal
import subprocess
import sys
import time
from concurrent.futures import ThreadPoolExecutor
from dataclasses import replace
from pathlib import Path
from typing import Any

import httpx
import pytest

from bench.load import rss_mb
from rag import api, cli
from rag.answer import LLM_DOWN_NOTE
from rag.api import SEARCH_DOWN, Service
from rag.config import Settings
from rag.errors import RetrievalUnavailable
from rag.evaluate import load_items
from rag.ingest import EMBED_BATCH, chunk_document, discover, load_document
from rag.runtime import Runtime
from tests.fake_llm import fake_openai
from tests.servers import (
    ROOT,
    build_index,
    chat,
    chat_client,
    clean_env,
    llama_server,
    run_ingest,
    serve_app,
    wait_for_status,
)

QUESTION = "Which Security Council resolution established MINUSMA?"
DOWN = "language model is unavailable"


def ask(url: str, question: str = QUESTION, history: list[dict[str, str]] | None = None) -> httpx.Response:
    return httpx.post(f"{url}/api/ask", json={"question": question, "history": history or []}, timeout=120)


def assert_clean(text: str, *hidden: str) -> None:
    """No trace, and none of the given hosts or keys, in what a user receives."""
    assert "Traceback" not in text and "Error code" not in text, text
    for secret in hidden:
        assert secret not in text, (secret, text)


def sse(url: str, question: str, on_token: object = None) -> list[tuple[str, dict]]:
    """The events of one streamed answer; on_token() is called at the first token."""
    events: list[tuple[str, dict]] = []
    with httpx.stream("POST", f"{url}/api/ask/stream", json={"question": question}, timeout=120) as response:
        kind = ""
        for line in response.iter_lines():
            if line.startswith("event: "):
                kind = line[7:]
            elif line.startswith("data: "):
                events.append((kind, json.loads(line[6:])))
                if kind == "token" and on_token and len([e for e in events if e[0] == "token"]) == 1:
                    on_token()  # type: ignore[operator]
    return events


@pytest.mark.llm
def test_s09_s10_openai_server_stalled_killed_and_back(server_index: Path, tmp_path: Path) -> None:
    with llama_server(tmp_path) as llm:
        host = f"127.0.0.1:{llm.port}"
        settings = {"llm": "openai", "openai_base_url": f"http://{host}/v1", "openai_model": "gemma"}
        settings |= {
            # The model writes over five whole passages: ~5 s to the first token with the bundled model here.
            "llm_timeout_s": "15",
            "max_concurrent": "1",
            "queue_size": "2",
            "rate_limit_per_min": "1000",
        }
        with serve_app(server_index, tmp_path / "app", **settings) as app:
            healthy = ask(app.url).json()
            assert "2100" in healthy["answer"] and DOWN not in healthy["answer"]

            os.kill(llm.proc.pid, signal.SIGSTOP)  # S10: the server hangs
            started = time.monotonic()
            stalled = ask(app.url)
            waited = time.monotonic() - started
            os.kill(llm.proc.pid, signal.SIGCONT)
            assert stalled.status_code == 200 and DOWN in stalled.json()["answer"] and "2100" in stalled.text
            assert waited < 15 + 6, f"answered {waited:.1f} s after a 15 s timeout"
            assert_clean(stalled.text, host)
            assert DOWN not in ask(app.url).json()["answer"], "the slot was freed and the next request works"

            ended = sse(app.url, QUESTION, on_token=lambda: os.kill(llm.proc.pid, signal.SIGKILL))
            assert ended[-1][0] in ("answer", "error"), ended  # killed mid-stream: a clean ending either way
            assert_clean(json.dumps(ended), host)
            if llm.proc.poll() is None:  # the answer may have ended before the first token arrived
                llm.proc.kill()
            llm.proc.wait(timeout=10)

            started = time.monotonic()
            down = ask(app.url)  # S09: nothing listens any more
            assert DOWN in down.json()["answer"] and time.monotonic() - started < 10
            assert_clean(down.text, host)
            assert "LLM failed" in Path(app.log).read_text(), "the failure is in the log"

            with llama_server(tmp_path, port=llm.port):
                back = ask(app.url).json()
                assert "2100" in back["answer"] and DOWN not in back["answer"]


def test_s11_stream_cut_mid_answer_is_flagged_and_history_stays_usable(
    server_index: Path, tmp_path: Path
) -> None:
    with fake_openai() as (base, script):
        script.reply, script.mode, script.cut_after = "Resolution 2100 established it", "cut", 2
        with serve_app(server_index, tmp_path, llm="openai", openai_base_url=base, llm_timeout_s="3") as app:
            events = sse(app.url, QUESTION)
            tokens = [e for kind, e in events if kind == "token"]
            final = events[-1]
            # A cut model's half sentence is never shown: the streamed pieces are the quoted evidence.
            assert tokens and final[0] == "answer", events
            assert "Resolution 2100 established" not in "".join(t["text"] for t in tokens)
            assert LLM_DOWN_NOTE in final[1]["answer"] and final[1]["sources"], "flagged, with the evidence"
            history = [
                {"role": "user", "content": QUESTION},
                {"role": "assistant", "content": final[1]["answer"]},
            ]
            script.mode = "reply"
            follow = ask(app.url, "When was it adopted?", history)
            assert follow.status_code == 200 and follow.json()["answer"]


def test_an_index_rebuilt_while_serving_is_read_afresh(own_index: Path, docs_dir: Path, embeddings) -> None:  # noqa: ANN001
    settings = Settings(index_dir=own_index, llm="extractive")
    service = Service(settings, Runtime(settings, embeddings=embeddings))
    service.loading.acquire()
    service.load()
    whole = service.current().store.count()
    shutil.rmtree(own_index)
    build_index(own_index, corpus_dir=str(docs_dir))  # the same path, other files
    rebuilt = service.current()
    assert 0 < rebuilt.store.count() < whole
    found = rebuilt.retriever.invoke("Who was the spokeswoman of MINUSMA?")
    assert found and {Path(d.metadata["source"]).parent for d in found} == {docs_dir}


def test_s13_s14_index_corrupted_or_deleted_while_serving_then_rebuilt(
    own_index: Path, docs_dir: Path, tmp_path: Path
) -> None:
    with serve_app(own_index, tmp_path / "app", llm="extractive", rate_limit_per_min="1000") as app:
        assert ask(app.url).json()["sources"]
        whole = httpx.get(app.url + "/readyz").json()["chunks"]
        with (own_index / "chroma.sqlite3").open("r+b") as db:  # S14: the database is corrupted
            db.truncate(1024)
        assert wait_for_status(app.url + "/readyz", 503)
        broken = ask(app.url)
        assert broken.status_code == 503 and broken.json()["detail"] == SEARCH_DOWN
        shutil.rmtree(own_index)  # S13: then deleted
        gone = ask(app.url)
        assert gone.status_code == 503 and gone.json()["detail"] == SEARCH_DOWN
        with pytest.raises(Exception, match="Search is unavailable"):
            chat(app.url, QUESTION)
        assert httpx.get(app.url + "/healthz").status_code == 200, "the process is still up"
        build_index(
            own_index, corpus_dir=str(docs_dir)
        )  # rebuilt, from fewer documents; the server reopens it
        assert wait_for_status(app.url + "/readyz", 200)
        assert httpx.get(app.url + "/readyz").json()["chunks"] < whole, (
            "the rebuilt index, not the deleted one"
        )
        answer = ask(app.url, "Who was the spokeswoman of MINUSMA?").json()
        cited = {Path(s["source"]).parent for s in answer["sources"]}
        assert cited == {docs_dir}, "only the documents the index was rebuilt from are cited"


@pytest.mark.parametrize("damage", ["truncated", "empty"])
def test_s14_broken_or_empty_index_at_startup_is_an_error(
    damage: str,
    server_index: Path,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    index = tmp_path / "index"
    if damage == "truncated":
        shutil.copytree(server_index, index)
        (index / "chroma.sqlite3").write_bytes((index / "chroma.sqlite3").read_bytes()[:1024])
    else:
        index.mkdir()
    monkeypatch.setenv("RAG_INDEX_DIR", str(index))
    monkeypatch.setenv("RAG_LLM", "extractive")
    assert cli.main(["ask", QUESTION]) == 1
    err = capsys.readouterr().err
    assert err.startswith("error: ") and "Traceback" not in err, err
    with serve_app(index, tmp_path / "app", None, "/healthz", llm="extractive") as app:
        assert wait_for_status(app.url + "/readyz", 503, 30)
        time.sleep(1)
        refused = ask(app.url)
        assert refused.status_code == 503 and refused.json()["detail"] == SEARCH_DOWN
        log = Path(app.log).read_text()
        assert "startup failed" in log and "Logging error" not in log


def test_a_request_during_a_failing_first_load_gets_the_error_at_once(tmp_path: Path, monkeypatch) -> None:  # noqa: ANN001
    monkeypatch.setattr(api, "START_WAIT_S", 3600)  # a request that waited for readiness would hang the test
    index = tmp_path / "index"
    index.mkdir()
    service = Service(replace(Settings(), index_dir=index, llm="extractive"))
    service.load_in_background()
    with ThreadPoolExecutor(1) as pool:
        request = pool.submit(service.current)
        with pytest.raises(RetrievalUnavailable, match="index is empty"):
            request.result(timeout=120)


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


def content(body: dict) -> dict:
    """An API answer without its id, which is new for every answer."""
    return {k: v for k, v in body.items() if k != "answer_id"}


def test_s16_fifty_concurrent_chats_get_their_own_answers_or_a_clean_busy(extractive_app) -> None:  # noqa: ANN001
    url = extractive_app.url
    items = [i for i in load_items(ROOT / "eval" / "qa.jsonl") if "q" in i and not i.get("unanswerable")]
    questions = list(dict.fromkeys(i["q"] for i in items))[:50]
    assert len(questions) == 50
    expected = {q: content(ask(url, q).json()) for q in questions}  # one at a time first
    baseline_mb = rss_mb(extractive_app.proc.pid)

    def once(question: str) -> httpx.Response:
        return ask(url, question)

    def until_answered(question: str) -> dict:
        for _ in range(40):  # bounded retries after a clean "busy"
            response = ask(url, question)
            if response.status_code == 200:
                return response.json()
            assert response.status_code == 503 and "busy" in response.json()["detail"], response.text
            assert response.headers["retry-after"] == "5"
            time.sleep(0.2)
        raise AssertionError(f"never answered: {question}")

    with ThreadPoolExecutor(50) as pool:
        first = list(pool.map(once, questions))
    statuses = {r.status_code for r in first}
    assert statuses <= {200, 503}, statuses
    for question, response in zip(questions, first):
        if response.status_code == 200:
            assert content(response.json()) == expected[question], "no cross-talk between concurrent chats"
        else:
            assert "busy" in response.json()["detail"]
    for _ in range(2):
        with ThreadPoolExecutor(50) as pool:
            answered = list(pool.map(until_answered, questions))
        assert [content(a) for a in answered] == [expected[q] for q in questions]
        assert len({a["answer_id"] for a in answered}) == len(questions), "each answer has its own id"
    grown = rss_mb(extractive_app.proc.pid) - baseline_mb
    assert grown < 80, f"memory grew {grown:.0f} MB over 150 concurrent answers"


def test_s16_chat_load_through_gradio_has_no_cross_talk(extractive_app) -> None:  # noqa: ANN001
    questions = [
        "When was the Kidal camp closed?",
        "Which resolution established MINUSMA?",
        "Who led the 2012 coup in Mali?",
    ]
    marks = ["31 October 2023", "2100", "Sanogo"]
    outcomes = []
    with chat_client(extractive_app.url) as client:
        jobs = [(m, client.submit(q, api_name="/chat")) for q, m in zip(questions * 4, marks * 4)]
        for mark, job in jobs:
            try:
                outcomes.append((mark, job.result(timeout=120)))
            except Exception as exc:  # a full queue is a clean, named refusal
                assert "busy" in str(exc) or "queue is full" in str(exc).lower(), exc
    assert outcomes and all(mark in text for mark, text in outcomes), outcomes
