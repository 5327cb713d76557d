"""Faults while serving, as an operator meets them: the LLM server stalls or dies, the index is deleted or corrupted.
Safety checklist S09–S11, S13, S14 (ingest faults: test_ingest_faults.py; load: test_load.py)."""

from __future__ import annotations

import json
import os
import shutil
import signal
import time
from concurrent.futures import ThreadPoolExecutor
from dataclasses import replace
from pathlib import Path

import httpx
import pytest

from rag import api, cli
from rag.answer import LLM_DOWN_NOTE
from rag.api import SEARCH_DOWN, Service
from rag.config import Settings
from rag.errors import RetrievalUnavailable
from rag.runtime import Runtime
from tests.fake_llm import fake_openai
from tests.servers import (
    ask,
    build_index,
    chat,
    llama_server,
    serve_app,
    wait_for_status,
)

QUESTION = "Which Security Council resolution established MINUSMA?"
DOWN = "language model is unavailable"


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
            "llm_max_tokens": "64",  # what is tested is the server's failures, not the answer's length
            "max_concurrent": "1",
            "queue_size": "2",
            "rate_limit_per_min": "1000",
        }
        with serve_app(server_index, tmp_path / "app", **settings) as app:
            healthy = ask(app.url, QUESTION).json()
            assert "2100" in healthy["answer"] and DOWN not in healthy["answer"]

            os.kill(llm.proc.pid, signal.SIGSTOP)  # S10: the server hangs
            started = time.monotonic()
            stalled = ask(app.url, QUESTION)
            waited = time.monotonic() - started
            os.kill(llm.proc.pid, signal.SIGCONT)
            assert stalled.status_code == 200 and DOWN in stalled.json()["answer"] and "2100" in stalled.text
            assert waited < 15 + 6, f"answered {waited:.1f} s after a 15 s timeout"
            assert_clean(stalled.text, host)
            assert DOWN not in ask(app.url, QUESTION).json()["answer"], (
                "the slot was freed and the next request works"
            )

            ended = sse(app.url, QUESTION, on_token=lambda: os.kill(llm.proc.pid, signal.SIGKILL))
            assert ended[-1][0] in ("answer", "error"), ended  # killed mid-stream: a clean ending either way
            assert_clean(json.dumps(ended), host)
            if llm.proc.poll() is None:  # the answer may have ended before the first token arrived
                llm.proc.kill()
            llm.proc.wait(timeout=10)

            started = time.monotonic()
            down = ask(app.url, QUESTION)  # S09: nothing listens any more
            assert DOWN in down.json()["answer"] and time.monotonic() - started < 10
            assert_clean(down.text, host)
            assert "LLM failed" in Path(app.log).read_text(), "the failure is in the log"

            with llama_server(tmp_path, port=llm.port):
                back = ask(app.url, QUESTION).json()
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
        assert ask(app.url, QUESTION).json()["sources"]
        whole = httpx.get(app.url + "/readyz").json()["chunks"]
        with (own_index / "chroma.sqlite3").open("r+b") as db:  # S14: the database is corrupted
            db.truncate(1024)
        assert wait_for_status(app.url + "/readyz", 503)
        broken = ask(app.url, QUESTION)
        assert broken.status_code == 503 and broken.json()["detail"] == SEARCH_DOWN
        shutil.rmtree(own_index)  # S13: then deleted
        gone = ask(app.url, QUESTION)
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


def damaged_index(server_index: Path, tmp_path: Path, damage: str) -> Path:
    """A copy of the real index with its database cut to 1 KB, or an empty folder."""
    index = tmp_path / "index"
    if damage == "truncated":
        shutil.copytree(server_index, index)
        (index / "chroma.sqlite3").write_bytes((index / "chroma.sqlite3").read_bytes()[:1024])
    else:
        index.mkdir()
    return index


@pytest.mark.parametrize("damage", ["truncated", "empty"])
def test_s14_broken_or_empty_index_is_a_clear_command_line_error(
    damage: str,
    server_index: Path,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    monkeypatch.setenv("RAG_INDEX_DIR", str(damaged_index(server_index, tmp_path, damage)))
    monkeypatch.setenv("RAG_LLM", "extractive")
    assert cli.main(["ask", QUESTION]) == 1
    err = capsys.readouterr().err
    assert err.startswith("error: ") and "Traceback" not in err, err


def test_s14_a_server_started_on_a_broken_index_is_up_unready_and_says_why(
    server_index: Path, tmp_path: Path
) -> None:
    # One damage is enough here: the server meets either as the same failed first load (an empty index's is checked
    # in-process below).
    index = damaged_index(server_index, tmp_path, "truncated")
    with serve_app(index, tmp_path / "app", None, "/healthz", llm="extractive") as app:
        assert wait_for_status(app.url + "/readyz", 503, 30)
        time.sleep(1)
        refused = ask(app.url, QUESTION)
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
