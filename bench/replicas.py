"""Latency against concurrent clients for 1, 2 and 4 app replicas on one Chroma server and one LLM server."""

from __future__ import annotations

from collections.abc import Sequence
from concurrent.futures import ThreadPoolExecutor
from contextlib import AbstractContextManager, ExitStack
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from bench.load import LoadResult, pct, run_load
from tests.servers import Served, serve_app


@dataclass(frozen=True)
class Point:
    """One load level against one replica count."""

    replicas: int
    clients: int
    result: LoadResult


def sweep(
    index: Path,
    work: Path,
    settings: dict[str, Any],
    asked: list[str],
    replica_counts: tuple[int, ...],
    levels: tuple[int, ...],
    seconds: float,
    long_seconds: float,
    max_requests: int,
) -> list[Point]:
    """For each replica count, start the replicas, then load them at each level (the last for long_seconds)."""
    points = []
    for n in replica_counts:
        with ExitStack() as stack:
            servers = [serve_app(index, work / f"replica-{n}-{i}", **settings) for i in range(n)]
            urls = [served.url for served in start_all(stack, servers)]
            # Every replica pays its one-off costs before it is measured.
            run_load(urls, asked, len(urls), 10.0, min(40, max_requests) * len(urls))
            for clients in levels:
                duration = long_seconds if clients == levels[-1] else seconds
                points.append(Point(n, clients, run_load(urls, asked, clients, duration, max_requests)))
    return points


def start_all(stack: ExitStack, servers: Sequence[AbstractContextManager[Served]]) -> list[Served]:
    """Start the servers at once, each waiting for its own readiness; the stack stops every one that started."""
    with ThreadPoolExecutor(len(servers)) as pool:
        started = [pool.submit(server.__enter__) for server in servers]
    served, failure = [], None
    for server, future in zip(servers, started):
        try:
            served.append(future.result())
            stack.push(server)
        except Exception as exc:  # the others still stop; the first failure is raised
            failure = failure or exc
    if failure is not None:
        raise failure
    return served


def plot(points: list[Point], path: Path, title: str) -> None:
    """p50 and p95 answer latency against concurrent clients, one line per replica count."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    figure, axis = plt.subplots(figsize=(7, 4.2), dpi=110)
    for n in sorted({p.replicas for p in points}):
        mine = [p for p in points if p.replicas == n]
        clients = [p.clients for p in mine]
        line = axis.plot(
            clients, [pct(p.result.latencies_s, 95) for p in mine], marker="o", label=f"{n} × p95"
        )
        color = line[0].get_color()
        axis.plot(
            clients,
            [pct(p.result.latencies_s, 50) for p in mine],
            marker=".",
            linestyle="--",
            color=color,
            label=f"{n} × p50",
        )
    axis.set_xlabel("concurrent clients")
    axis.set_ylabel("answer latency (s)")
    axis.set_title(title, fontsize=10)
    axis.grid(alpha=0.3)
    axis.legend(title="replicas", fontsize=8, ncol=2)
    figure.tight_layout()
    figure.savefig(path)
    plt.close(figure)
