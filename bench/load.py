"""A bounded load generator: N clients asking over the REST API on loopback."""

from __future__ import annotations

import os
import threading
import time
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path

import httpx


@dataclass
class LoadResult:
    """What the clients saw, and the server's memory over the run."""

    latencies_s: list[float] = field(default_factory=list)
    errors: Counter[str] = field(default_factory=Counter)
    elapsed_s: float = 0.0
    rss_mb: list[float] = field(default_factory=list)

    @property
    def throughput(self) -> float:
        """Answers per second."""
        return len(self.latencies_s) / self.elapsed_s if self.elapsed_s else 0.0


def rss_mb(pid: int, field_name: str = "VmRSS") -> float:
    """Resident (VmRSS) or peak resident (VmHWM) memory of a process, in MB."""
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith(field_name + ":"):
            return int(line.split()[1]) / 1024
    return 0.0


def cpu_share(pid: int, seconds: float) -> float:
    """The share of one core a process uses over the next `seconds` (user and system time, from /proc)."""

    def used() -> float:
        fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
        return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")

    before = used()
    time.sleep(seconds)
    return (used() - before) / seconds


def pct(values: list[float], q: float) -> float:
    """The q-th percentile (nearest rank)."""
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, max(0, round(q / 100 * len(ordered) + 0.5) - 1))] if ordered else 0.0


def ms(values: list[float]) -> str:
    """p50/p95 in milliseconds."""
    return f"p50 {pct(values, 50) * 1000:.1f} ms, p95 {pct(values, 95) * 1000:.1f} ms"


def run_load(
    url: str | list[str],
    questions: list[str],
    clients: int,
    seconds: float,
    max_requests: int,
    pid: int | None = None,
) -> LoadResult:
    """Each client asks the next question until the time or the request budget is spent.

    Given several replicas' URLs, client i stays with replica i mod N, as a round-robin load balancer spreads them.
    """
    urls = [url] if isinstance(url, str) else url
    result = LoadResult()
    lock = threading.Lock()
    sent = [0]
    deadline = time.perf_counter() + seconds
    done = threading.Event()

    def client(offset: int) -> None:
        with httpx.Client(base_url=urls[offset % len(urls)], timeout=180) as http:
            n = offset
            while time.perf_counter() < deadline:
                with lock:
                    if sent[0] >= max_requests:
                        return
                    sent[0] += 1
                started = time.perf_counter()
                try:
                    response = http.post("/api/ask", json={"question": questions[n % len(questions)]})
                    outcome = "ok" if response.status_code == 200 else f"HTTP {response.status_code}"
                except httpx.HTTPError as exc:
                    outcome = type(exc).__name__
                with lock:
                    if outcome == "ok":
                        result.latencies_s.append(time.perf_counter() - started)
                    else:
                        result.errors[outcome] += 1
                n += clients

    def sample_memory() -> None:
        while pid and not done.wait(1.0):
            result.rss_mb.append(rss_mb(pid))

    sampler = threading.Thread(target=sample_memory, daemon=True)
    sampler.start()
    started = time.perf_counter()
    workers = [threading.Thread(target=client, args=(i,)) for i in range(clients)]
    for w in workers:
        w.start()
    for w in workers:
        w.join()
    result.elapsed_s = time.perf_counter() - started
    done.set()
    sampler.join()
    return result
