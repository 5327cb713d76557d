"""The CLI's exact JSON formats: through the real command line, and in-process where only the format is at stake."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from rag.cli import main

ROOT = Path(__file__).resolve().parent.parent


@pytest.fixture(scope="module")
def cli_env(server_index: Path) -> dict[str, str]:
    """The CLI over the session's index (built by `python -m rag ingest`), reading only."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("RAG_")}
    env.update(RAG_INDEX_DIR=str(server_index), RAG_LLM="extractive", PYTHONPATH=str(ROOT))
    return env


def cli(args: list[str], env: dict[str, str]) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "rag", *args], env=env, cwd=ROOT, capture_output=True, text=True, timeout=300
    )


def in_process(
    args: list[str], env: dict[str, str], monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> str:
    """`python -m rag <args>` run in this process (no interpreter start); returns its standard output."""
    for name, value in env.items():
        if name.startswith("RAG_"):
            monkeypatch.setenv(name, value)
    code = main(args)
    out = capsys.readouterr()
    assert code == 0, out.err
    return out.out


def test_ask_json_format(
    cli_env: dict[str, str], monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    answer = json.loads(
        in_process(["ask", "When was the Kidal camp closed?", "--json"], cli_env, monkeypatch, capsys)
    )
    assert set(answer) == {"answer", "refused", "sources", "answer_id"}
    assert answer["refused"] is False and "31 October 2023" in answer["answer"]
    for source in answer["sources"]:
        assert set(source) == {"n", "title", "source", "chunk_id", "score", "text"}
        assert isinstance(source["n"], int) and isinstance(source["score"], float)
        assert f"[{source['n']}]" in answer["answer"]


def test_ask_with_history_file(
    cli_env: dict[str, str],
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    history = tmp_path / "history.json"
    history.write_text(
        json.dumps(
            [
                {"role": "user", "content": "Which camp was closed on 31 October 2023?"},
                {"role": "assistant", "content": "Kidal."},
            ]
        )
    )
    args = ["ask", "What happened to its last convoy?", "--history", str(history), "--json"]
    assert "explosive" in json.loads(in_process(args, cli_env, monkeypatch, capsys))["answer"].lower()


def test_bad_history_file_is_a_clear_error(cli_env: dict[str, str], tmp_path: Path) -> None:
    bad = tmp_path / "bad.json"
    bad.write_text("{not json")
    out = cli(["ask", "When was the Kidal camp closed?", "--history", str(bad)], cli_env)
    assert out.returncode == 1 and out.stderr.startswith("error: cannot read history file")
    assert "Traceback" not in out.stderr


def test_eval_output_format(cli_env: dict[str, str], tmp_path: Path) -> None:
    items = tmp_path / "qa.jsonl"
    items.write_text(
        "\n".join(
            json.dumps(i)
            for i in [
                {
                    "id": "a",
                    "q": "When was the Kidal camp closed?",
                    "expect": ["31 October"],
                    "source": ["06-withdrawal-2023-camp-by-camp.md"],
                },
                {
                    "id": "b",
                    "turns": [
                        "Which camp was closed on 31 October 2023?",
                        "What happened to its last convoy?",
                    ],
                    "expect": ["explosive"],
                },
                {"id": "c", "q": "How do I bake a cake?", "unanswerable": True},
            ]
        )
    )
    results = tmp_path / "out.jsonl"
    out = cli(["eval", str(items), "--out", str(results)], cli_env)
    assert out.returncode == 0, out.stderr
    assert "hit@5 100%" in out.stdout and "p50" in out.stdout
    lines = [json.loads(line) for line in results.read_text().splitlines()]
    assert [line["id"] for line in lines] == ["a", "b", "c"]
    for line in lines:
        assert set(line) == {"id", "answer", "refused", "sources", "latency_ms", "pass"}
    assert [line["pass"] for line in lines] == [True, True, True]
