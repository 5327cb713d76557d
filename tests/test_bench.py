"""A smoke run of `make bench` (tiny sizes), so the benchmark code cannot rot; timings are not checked."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

from tests.servers import ROOT, clean_env


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
        "2 replica(s) on one Chroma server",
        "## Replicas: latency against concurrent clients",
        "memory (in-process Chroma)",
        "## Scale-out",
        "## Answer quality beside the references",
    ):
        assert row in report, row
    assert "a client without the token was refused" in report
    assert "errors: none" in report
    assert out.with_suffix(".png").stat().st_size > 10_000, "the latency plot"
