"""A smoke run of `make bench` (tiny sizes), so the benchmark code cannot rot, and its replica start-up; timings are not checked."""

from __future__ import annotations

import subprocess
import sys
from collections.abc import Iterator
from contextlib import ExitStack, contextmanager
from pathlib import Path

import pytest

from bench.replicas import start_all
from tests.servers import ROOT, Served, clean_env


def test_bench_smoke_run_writes_every_section(server_index: Path, tmp_path: Path) -> None:
    out = tmp_path / "RESULTS.md"
    done = subprocess.run(
        [sys.executable, "-m", "bench.run", "--smoke", "--out", str(out), "--index", str(server_index)],
        env=clean_env(),
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=600,
    )
    assert done.returncode == 0, done.stderr[-3000:]
    report = out.read_text()
    for row in (
        "retrieval latency, real corpus",
        "retrieval latency, synthetic 300 chunks",
        "ingestion throughput",
        "re-ingest of an unchanged corpus",
        "answer latency, default LLM",
        "cold start (in-process Chroma)",
        "cold start against index size",
        "1 replica(s) on one Chroma server",
        "## Replicas: latency against concurrent clients",
        "memory (in-process Chroma)",
        "idle CPU (in-process Chroma)",
        "## Scale-out",
        "## Answer quality beside the references",
    ):
        assert row in report, row
    assert "a client without the token was refused" in report
    assert "errors: none" in report
    assert out.with_suffix(".png").stat().st_size > 10_000, "the latency plot"


def test_replicas_start_at_once_and_all_stop_when_one_fails() -> None:
    stopped: list[str] = []

    @contextmanager
    def server(name: str) -> Iterator[Served]:
        if name == "broken":
            raise RuntimeError("server exited")
        try:
            yield Served(f"http://{name}", 0, None, 0.0, Path())  # type: ignore[arg-type]
        finally:
            stopped.append(name)

    with ExitStack() as stack:
        assert [s.url for s in start_all(stack, [server("a"), server("b")])] == ["http://a", "http://b"]
    assert sorted(stopped) == ["a", "b"]
    stopped.clear()
    with pytest.raises(RuntimeError, match="server exited"), ExitStack() as stack:
        start_all(stack, [server("a"), server("broken")])
    assert stopped == ["a"], "the replica that started is stopped"
