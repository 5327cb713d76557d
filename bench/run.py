"""`make bench`: speed, memory, concurrency and scale-out, each figure beside a reference measured in the same run."""

from __future__ import annotations

import argparse
import os
import platform
import re
import shutil
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from dataclasses import dataclass, field, replace
from datetime import UTC, datetime
from pathlib import Path

import chromadb

from bench import replicas
from bench.load import LoadResult, cpu_share, ms, pct, rss_mb, run_load
from bench.synthetic import NOTES, SentenceMixer, sentence_pool
from rag.config import Settings
from rag.evaluate import load_items
from rag.ingest import chunk_document, discover, load_document, version_hash
from rag.runtime import Runtime
from tests.servers import (
    ROOT,
    Served,
    build_index,
    chroma_server,
    clean_env,
    llama_server,
    run_ingest,
    serve_app,
)

TOKEN = "bench-token-not-secret"
DOCS = ROOT / "docs"


@dataclass(frozen=True)
class Plan:
    """How big each measurement is: the full run, or a smoke run that only proves the code works."""

    scales: tuple[int, ...] = (10_000, 100_000)
    pool_limit: int | None = None
    questions: int | None = None
    answer_items: int | None = None
    ingest_files: int = 60
    ingest_rounds: int = 3
    bare_rounds: int = 3
    clients: int = 20
    load_seconds: float = 60.0
    load_max_requests: int = 20_000
    quality_file: Path = ROOT / "eval" / "qa.jsonl"
    quality_items: int | None = None
    cold_rounds: int = 2
    replicas: tuple[int, ...] = (1, 2, 4)
    levels: tuple[int, ...] = (1, 5, 10, 20)
    level_seconds: float = 20.0
    idle_seconds: float = 20.0


SMOKE = Plan(
    scales=(300,),
    pool_limit=120,
    questions=4,
    answer_items=2,
    ingest_files=2,
    ingest_rounds=1,
    bare_rounds=1,
    clients=2,
    load_seconds=2.0,
    load_max_requests=4,
    quality_items=1,
    cold_rounds=1,
    replicas=(1,),
    levels=(1, 2),
    level_seconds=2.0,
    idle_seconds=2.0,
)
# What a server needs before it can answer, and nothing more: its imports and its two models.
FLOOR = (
    "import gradio, fastapi, uvicorn, chromadb, langchain_chroma\n"
    "from rag.config import Settings\nfrom rag.store import load_embeddings\nfrom rag.llm import build_llm\n"
    "settings = Settings.from_env()\nload_embeddings(settings).embed_query('warm-up')\nbuild_llm(settings)\n"
)
MAX_RATIO = 10  # 20 clients' p95 against one client's p50, same run


@dataclass
class Report:
    """The summary rows and the detail sections of RESULTS.md."""

    rows: list[tuple[str, str, str, str, str]] = field(default_factory=list)
    sections: list[str] = field(default_factory=list)

    def row(self, what: str, measured: str, reference: str, target: str, met: bool | None) -> None:
        """One line of the summary table; also printed as it is measured."""
        verdict = "n/a" if met is None else ("met" if met else "**not met**")
        self.rows.append((what, measured, reference, target, verdict))
        print(f"{what}: {measured} | reference {reference} | target {target}: {verdict}", flush=True)


def questions(plan: Plan) -> list[str]:
    """The distinct questions of both evaluation sets."""
    items = load_items(ROOT / "eval" / "qa.jsonl") + load_items(ROOT / "eval" / "holdout.jsonl")
    found = list(dict.fromkeys((item.get("turns") or [item["q"]])[-1] for item in items))
    return found[: plan.questions]


def timed(fn: Callable[..., object], *args: object) -> float:
    """Seconds one call takes."""
    started = time.perf_counter()
    fn(*args)
    return time.perf_counter() - started


def retrieval_times(runtime: Runtime, asked: list[str]) -> tuple[list[float], list[float]]:
    """Product retrieval vs (query embedding + raw Chroma query), alternating, each question once."""
    runtime.embeddings.forget_queries()  # type: ignore[attr-defined]
    model = runtime.embeddings.load()  # type: ignore[attr-defined]
    collection = runtime.store.collection
    retriever = runtime.retriever
    k = runtime.settings.rerank_candidates

    def reference(question: str) -> None:
        collection.query(query_embeddings=[model.embed_query(question)], n_results=k)

    for warm in asked[:3]:
        reference(warm + " warm-up")
        retriever.invoke(warm + " warm-up", k=k)
    product, raw = [], []
    for question in asked:
        raw.append(timed(reference, question))
        product.append(timed(lambda: retriever.invoke(question, k=k)))  # noqa: B023
    return product, raw


def bench_retrieval(report: Report, runtime: Runtime, asked: list[str], label: str) -> tuple[float, float]:
    """Retrieval latency on the real corpus; returns the two p50s."""
    product, raw = retrieval_times(runtime, asked)
    ratio = pct(product, 50) / pct(raw, 50)
    report.row(
        f"retrieval latency, real corpus ({label}, {len(asked)} questions)",
        ms(product),
        f"embed + raw Chroma query: {ms(raw)}",
        "p50 ≤ 1.5× reference",
        ratio <= 1.5,
    )
    return pct(product, 50), pct(raw, 50)


def bench_scale(
    report: Report, base: Settings, mixer: SentenceMixer, plan: Plan, work: Path, asked: list[str]
) -> None:
    """Retrieval latency on synthetic corpora of growing size."""
    lines = [
        "| chunks | index write s | keyword index build s | product p50 / p95 ms | reference p50 / p95 ms | ratio p50 |",
        "|---|---|---|---|---|---|",
    ]
    for n in plan.scales:
        settings = replace(base, index_dir=work / f"scale-{n}", collection=f"scale{n}")
        runtime = Runtime(settings, embeddings=mixer.embeddings)
        write_s = timed(lambda: mixer.fill(runtime.store, n))  # noqa: B023
        build_s = timed(lambda: runtime.retriever)  # noqa: B023
        product, raw = retrieval_times(runtime, asked)
        ratio = pct(product, 50) / pct(raw, 50)
        lines.append(
            f"| {n:,} | {write_s:.1f} | {build_s:.1f} | {pct(product, 50) * 1000:.1f} / {pct(product, 95) * 1000:.1f} "
            f"| {pct(raw, 50) * 1000:.1f} / {pct(raw, 95) * 1000:.1f} | {ratio:.2f}× |"
        )
        report.row(
            f"retrieval latency, synthetic {n:,} chunks",
            ms(product),
            f"embed + raw Chroma query: {ms(raw)}",
            "p50 ≤ 1.5× reference",
            ratio <= 1.5,
        )
    report.sections.append(
        "## Retrieval latency as the index grows\n\n"
        f"Synthetic chunks recombine 2–4 of {len(mixer.sentences):,} distinct sentences of the corpus"
        f"{' and ../shared/corpus/notes' if NOTES.is_dir() else ''}; each chunk's vector is the "
        f"normalised mean of its sentences' vectors (the sentences were embedded once, {mixer.embed_s:.1f} s), so "
        "writing 100k chunks does not take an hour of CPU embedding. Product = hybrid retrieval of "
        f"{base.rerank_candidates} candidates (query embedding, Chroma HNSW, BM25 over an inverted index, "
        "reciprocal-rank fusion); reference = query embedding + one raw `collection.query`.\n\n"
        + "\n".join(lines)
    )


def cli_ingest(index: Path, *paths: Path) -> tuple[float, dict[str, float]]:
    """Wall seconds of `python -m rag ingest`, and the figures it printed."""
    started = time.perf_counter()
    done = run_ingest(index, *paths)
    done.check_returncode()
    wall = time.perf_counter() - started
    figures = {
        "embedded": float(re.search(r"(\d+) embedded", done.stdout).group(1)),  # type: ignore[union-attr]
        "seconds": float(re.search(r"time: ([\d.]+) s", done.stdout).group(1)),  # type: ignore[union-attr]
    }
    load = re.search(r"embedding model: ([\d.]+) s", done.stdout)
    figures["model_load"] = float(load.group(1)) if load else 0.0
    return wall, figures


def bench_ingest(report: Report, base: Settings, mixer: SentenceMixer, plan: Plan, work: Path) -> None:
    """Ingestion throughput vs raw SentenceTransformer.encode, and an unchanged re-ingest."""
    from sentence_transformers import SentenceTransformer

    folder = work / "ingest-docs"
    mixer.write_files(folder, plan.ingest_files, 12)
    texts = [
        c.embed_text
        for path in discover([folder])[0]
        for c in chunk_document(
            load_document(path, 10**8), path.name, version_hash(path.read_bytes(), base), base
        )
    ]
    model = SentenceTransformer(base.embed_model_path, device="cpu")
    model.encode(texts[:8])
    # Rounds alternate product and reference so drift on the machine hits both; the best of each is compared.
    runs: list[tuple[float, dict[str, float]]] = []
    raw: list[float] = []
    for round_ in range(plan.ingest_rounds):
        runs.append(cli_ingest(work / f"ingest-index-{round_}", folder))
        raw.append(len(texts) / timed(lambda: model.encode(texts, normalize_embeddings=True)))
    steady = [got["embedded"] / (got["seconds"] - got["model_load"]) for _, got in runs]
    wall, got = runs[steady.index(max(steady))]
    report.row(
        f"ingestion throughput ({int(got['embedded'])} chunks, fresh index, best of {plan.ingest_rounds})",
        f"{max(steady):.1f} chunks/s after the model load ({got['model_load']:.1f} s), "
        f"{max(steady) / max(raw):.2f}× the reference; "
        f"{got['embedded'] / wall:.1f} chunks/s counting process start, {wall:.1f} s wall; "
        f"all rounds: {', '.join(f'{x:.1f}' for x in steady)}",
        f"SentenceTransformer.encode: {max(raw):.1f} chunks/s; all rounds: {', '.join(f'{x:.1f}' for x in raw)}",
        "≥ 0.9× reference",
        max(steady) / max(raw) >= 0.9,
    )
    bare = min(timed(python, "import rag.ingest") for _ in range(plan.bare_rounds))
    rewall, again = cli_ingest(work / "ingest-index-0", folder)
    report.row(
        "re-ingest of an unchanged corpus (synthetic)",
        f"{rewall:.2f} s wall, {rewall / bare:.2f}× the reference ({again['seconds']:.2f} s inside), "
        f"{int(again['embedded'])} chunks embedded",
        f"bare `python -c 'import rag.ingest'`: {bare:.2f} s (best of {plan.bare_rounds})",
        "≤ 2 s",
        rewall <= 2,
    )
    shutil.copytree(base.index_dir, work / "real-index")  # the index of corpus/ this run already built
    real_wall, _ = cli_ingest(work / "real-index")
    report.row(
        "re-ingest of an unchanged corpus (corpus/)",
        f"{real_wall:.2f} s wall, {real_wall / bare:.2f}× the reference",
        f"bare `python -c 'import rag.ingest'`: {bare:.2f} s",
        "≤ 2 s",
        real_wall <= 2,
    )


def python(code: str) -> None:
    """Run `python -c code` in a clean environment."""
    subprocess.run([sys.executable, "-c", code], env=clean_env(), cwd=ROOT, check=True, capture_output=True)


def bench_cold_start(
    report: Report, base: Settings, work: Path, plan: Plan, load: Callable[[Served], None]
) -> None:
    """Start-up to /readyz 200 over the real corpus and the largest synthetic index, beside the floor.

    The last round's real-corpus server stays up for `load`, so the load test costs no start of its own.
    """
    n = max(plan.scales)
    floor, real, large, keyword = [], [], [], []
    for round_ in range(plan.cold_rounds):  # alternated, so drift on the machine hits all three
        floor.append(timed(python, FLOOR))
        with serve_app(base.index_dir, work / f"cold-real-{round_}", **load_settings(plan)) as served:
            real.append(served.ready_s)
            if round_ == plan.cold_rounds - 1:
                load(served)
        started = time.perf_counter()
        with serve_app(work / f"scale-{n}", work / f"cold-big-{round_}", collection=f"scale{n}") as served:
            large.append(served.ready_s)
            keyword.append(time.perf_counter() - started)
    by_real, by_floor = min(large) / min(real), min(large) / min(floor)
    report.row(
        f"cold start against index size (in-process Chroma, best of {plan.cold_rounds})",
        f"real corpus {min(real):.1f} s; {n:,} chunks {min(large):.1f} s = {by_real:.2f}× the real corpus, "
        f"{by_floor:.2f}× the floor (its keyword index complete {min(keyword):.1f} s after the start; hybrid "
        "search is dense only until then)",
        f"floor (imports + the two models, no index): {min(floor):.1f} s",
        "≤ 1.1× real corpus and ≤ 1.25× floor",
        by_real <= 1.1 and by_floor <= 1.25,
    )


def load_settings(plan: Plan) -> dict[str, str]:
    """A server that counts no client out: the load test measures answering, not the rate limit."""
    return {"rate_limit_per_min": "1000000", "queue_size": str(max(16, 2 * max(plan.clients, *plan.levels)))}


def bench_answers(report: Report, runtime: Runtime, plan: Plan) -> list[float]:
    """Time to the first visible text and to the checked answer, default LLM, over the eval set."""
    items = load_items(ROOT / "eval" / "qa.jsonl")[: plan.answer_items]
    first, full, tokens_first = [], [], []
    runtime.assistant.ask("When was MINUSMA established?")  # warm-up: the first call pays one-off costs
    for item in items:
        turns = item.get("turns") or [item["q"]]
        history: list[dict[str, str]] = []
        for turn in turns[:-1]:
            history += [
                {"role": "user", "content": turn},
                {"role": "assistant", "content": runtime.assistant.ask(turn, history).answer},
            ]
        started = time.perf_counter()
        seen = None
        for event in runtime.assistant.stream(turns[-1], history):
            if seen is None:
                seen = time.perf_counter() - started
                if event.final is None:
                    tokens_first.append(seen)
        full.append(time.perf_counter() - started)
        first.append(seen or full[-1])
    report.row(
        f"answer latency, default LLM `{runtime.settings.llm}` ({len(items)} eval items)",
        f"first text {ms(first)}; full answer {ms(full)}",
        f"streamed answers ({len(tokens_first)}): first token {ms(tokens_first)}",
        "TTFT p50 ≤ 1 s",
        pct(first, 50) <= 1.0,
    )
    return full


def bench_server(
    report: Report, served: Served, plan: Plan, asked: list[str], label: str, results: list[LoadResult]
) -> None:
    """Cold start, then N clients over the REST API, then peak memory; the load is appended to `results`."""
    idle = rss_mb(served.proc.pid)
    idle_cpu = cpu_share(served.proc.pid, plan.idle_seconds)
    alone = run_load(served.url, asked, 1, plan.level_seconds, plan.load_max_requests)
    result = run_load(
        served.url, asked, plan.clients, plan.load_seconds, plan.load_max_requests, served.proc.pid
    )
    peak = rss_mb(served.proc.pid, "VmHWM")
    report.row(
        f"cold start ({label})",
        f"{served.ready_s:.1f} s from process start to /readyz 200",
        "—",
        "≤ 10 s",
        served.ready_s <= 10,
    )
    load_row(
        report, f"concurrency ({label}): {plan.clients} clients, {plan.load_seconds:.0f} s", alone, result
    )
    report.row(
        f"idle CPU ({label})",
        f"{idle_cpu:.1%} of a core over {plan.idle_seconds:.0f} s, ready and unasked",
        "—",
        "≤ 2% of a core",
        idle_cpu <= 0.02,
    )
    memory = f"{min(result.rss_mb or [idle]):.0f}–{max(result.rss_mb or [idle]):.0f} MB"
    report.row(
        f"memory ({label})",
        f"peak RSS {peak:.0f} MB; {idle:.0f} MB ready and idle; {memory} during the load",
        "—",
        "≤ 1.5 GB",
        peak <= 1536,
    )
    results.append(result)


def load_row(report: Report, what: str, alone: LoadResult, result: LoadResult) -> None:
    """A load test's row: errors, and its p95 against one client's p50 measured just before."""
    errors = ", ".join(f"{k} ×{v}" for k, v in result.errors.items()) or "none"
    ratio = pct(result.latencies_s, 95) / max(pct(alone.latencies_s, 50), 1e-9)
    report.row(
        f"{what}, /api/ask",
        f"{len(result.latencies_s)} answers, {result.throughput:.2f}/s, {ms(result.latencies_s)} "
        f"(p95 = {ratio:.1f}× one client's p50); errors: {errors}",
        f"one client, same server: {alone.throughput:.2f}/s, {ms(alone.latencies_s)}",
        f"0 errors, p95 ≤ {MAX_RATIO}× one client's p50",
        not result.errors and not alone.errors and ratio <= MAX_RATIO,
    )


def bench_scale_out(
    report: Report,
    base: Settings,
    plan: Plan,
    work: Path,
    asked: list[str],
    local_p50: tuple[float, float],
    local_load: LoadResult,
    plot_path: Path,
) -> None:
    """The retrieval and concurrency figures again with the index on a token-protected Chroma server."""
    with chroma_server(work / "chroma-server", TOKEN) as chroma:
        remote = {"chroma_host": "127.0.0.1", "chroma_port": str(chroma.port), "chroma_token": TOKEN}
        build_index(work / "unused", **remote)
        try:
            chromadb.HttpClient(host="127.0.0.1", port=chroma.port).list_collections()
            refused = "a client without the token was NOT refused"
        except Exception as exc:  # the server answers 403 Forbidden
            refused = f"a client without the token was refused ({type(exc).__name__})"
        settings = replace(
            base, chroma_host="127.0.0.1", chroma_port=chroma.port, chroma_token=TOKEN, llm="extractive"
        )
        runtime = Runtime(settings)
        p50, raw_p50 = bench_retrieval(report, runtime, asked, "Chroma server")
        with llama_server(work) as llm:
            serving = {
                **remote,
                "llm": "openai",
                "openai_base_url": llm.url + "/v1",
                "openai_model": "gemma",
                "llm_capable": "false",  # the bundled base model translates; it does not write answers
                **load_settings(plan),
            }
            points = replicas.sweep(
                work / "unused",
                work,
                serving,
                asked,
                plan.replicas,
                plan.levels,
                plan.level_seconds,
                plan.load_seconds,
                plan.load_max_requests,
            )
        replica_section(report, points, plan, plot_path)
        result = next(
            p.result for p in points if p.replicas == plan.replicas[0] and p.clients == plan.levels[-1]
        )
    report.sections.append(
        "## Scale-out: the index on a Chroma server\n\n"
        f"`chroma run` (chromadb {chromadb.__version__}) on a private loopback port behind the nginx gate of deploy/ on 127.0.0.1:{chroma.port}; "
        f"{refused}. In-process vs server: retrieval p50 {local_p50[0] * 1000:.1f} → {p50 * 1000:.1f} ms "
        f"(reference {local_p50[1] * 1000:.1f} → {raw_p50 * 1000:.1f} ms); under load p95 "
        f"{pct(local_load.latencies_s, 95):.2f} → {pct(result.latencies_s, 95):.2f} s, throughput "
        f"{local_load.throughput:.2f} → {result.throughput:.2f} answers/s. `chroma run` (chromadb's Rust server) "
        "has no authentication of its own in 1.x, hence the gate; see docs/deploy.md."
    )


def replica_section(report: Report, points: list[replicas.Point], plan: Plan, plot_path: Path) -> None:
    """The replica table, the plot, and a row per replica count at the highest load."""
    lines = [
        "| replicas | clients | seconds | answers | answers/s | p50 ms | p95 ms | errors |",
        "|---|---|---|---|---|---|---|---|",
    ]
    for p in points:
        r = p.result
        lines.append(
            f"| {p.replicas} | {p.clients} | {r.elapsed_s:.0f} | {len(r.latencies_s)} | {r.throughput:.2f} | "
            f"{pct(r.latencies_s, 50) * 1000:.0f} | {pct(r.latencies_s, 95) * 1000:.0f} | "
            f"{sum(r.errors.values())} |"
        )
    for n in plan.replicas:
        mine = {p.clients: p.result for p in points if p.replicas == n}
        top = plan.levels[-1]
        load_row(
            report,
            f"{n} replica(s) on one Chroma server: {top} clients, {plan.load_seconds:.0f} s",
            mine[plan.levels[0]],
            mine[top],
        )
    replicas.plot(
        points,
        plot_path,
        f"/api/ask on {os.cpu_count()} cores: N replicas, one Chroma server, one LLM server",
    )
    report.sections.append(
        "## Replicas: latency against concurrent clients\n\n"
        f"N app replicas (each RAG_MAX_CONCURRENT=2) on one `chroma run` behind the nginx gate and one `llama_cpp.server` "
        f"with the bundled model (translation only), all on this {os.cpu_count()}-core machine; client i stays with "
        f"replica i mod N. Each level runs {plan.level_seconds:.0f} s, the last {plan.load_seconds:.0f} s. "
        f"Plot: {plot_path.relative_to(ROOT) if plot_path.is_relative_to(ROOT) else plot_path}.\n\n"
        + "\n".join(lines)
    )


def bench_quality(report: Report, settings: Settings, plan: Plan, work: Path) -> None:
    """The evaluation set through the product and both references, as `make eval` runs it."""
    from rag.evaluate import run

    items = work / "quality.jsonl"
    lines = plan.quality_file.read_text(encoding="utf-8").splitlines()[: plan.quality_items]
    items.write_text("\n".join(lines) + "\n", encoding="utf-8")
    table = work / "quality.md"
    run(items, None, settings, "all", table)
    body = table.read_text(encoding="utf-8").split("\n", 2)[2]
    report.sections.append(
        f"## Answer quality beside the references (`{plan.quality_file.name}`, {len(lines)} items)\n\n{body}"
    )


def machine() -> str:
    """CPU, cores, memory and versions."""
    cpu = next(
        (
            line.split(":", 1)[1].strip()
            for line in Path("/proc/cpuinfo").read_text().splitlines()
            if line.startswith("model name")
        ),
        platform.processor(),
    )
    memory = (
        int(
            next(
                line.split()[1]
                for line in Path("/proc/meminfo").read_text().splitlines()
                if line.startswith("MemTotal")
            )
        )
        / 1024**2
    )
    from importlib.metadata import version

    versions = ", ".join(
        f"{p} {version(p)}"
        for p in ("chromadb", "torch", "sentence-transformers", "llama_cpp_python", "gradio")
    )
    return f"{cpu}, {os.cpu_count()} cores, {memory:.0f} GiB; Python {platform.python_version()}; {versions}"


def write(report: Report, out: Path, plan: Plan, smoke: bool, seconds: float) -> None:
    """RESULTS.md: machine, summary table, details."""
    rows = "\n".join("| " + " | ".join(r) + " |" for r in report.rows)
    text = (
        "# Benchmarks\n\n"
        f"{'**Smoke run** (tiny sizes; the figures mean nothing). ' if smoke else ''}"
        f"Written by `make bench` on {datetime.now(UTC):%Y-%m-%d %H:%M} UTC in {seconds / 60:.1f} min.\n\n"
        f"Machine: {machine()}.\n\n"
        "Every reference was measured in the same run, on the same machine. Benchmarks print figures; they do not "
        "fail on timing.\n\n"
        "| what | measured | reference | target | verdict |\n|---|---|---|---|---|\n"
        f"{rows}\n\n" + "\n\n".join(report.sections) + "\n"
    )
    out.write_text(text, encoding="utf-8")


def main(argv: list[str] | None = None) -> int:
    """Run every benchmark in one go and write the report."""
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--smoke", action="store_true", help="tiny sizes, to prove the code runs (seconds)")
    parser.add_argument("--out", type=Path, default=ROOT / "bench" / "RESULTS.md")
    parser.add_argument("--index", type=Path, help="an index of corpus/ to read instead of building one")
    args = parser.parse_args(argv)
    plan = SMOKE if args.smoke else Plan()
    started = time.perf_counter()
    report = Report()
    asked = questions(plan)
    with tempfile.TemporaryDirectory(prefix="rag-bench-") as tmp:
        work = Path(tmp)
        index = args.index or work / "index"
        base = replace(
            Settings.from_env(), corpus_dir=ROOT / "corpus", index_dir=index, data_dir=work / "data"
        )
        if args.index is None:
            build_index(index)
        local = Runtime(replace(base, llm="extractive"))
        local_p50 = bench_retrieval(report, local, asked, "in-process Chroma")
        mixer = SentenceMixer(*sentence_pool(plan.pool_limit), local.embeddings)
        bench_scale(report, base, mixer, plan, work, asked)
        bench_ingest(report, base, mixer, plan, work)
        answering = Runtime(base, embeddings=local.embeddings)
        bench_answers(report, answering, plan)
        loads: list[LoadResult] = []
        bench_cold_start(
            report,
            base,
            work,
            plan,
            lambda s: bench_server(report, s, plan, asked, "in-process Chroma", loads),
        )
        local_load = loads[0]
        plot = args.out.with_suffix(".png") if args.smoke else DOCS / "latency-vs-clients.png"
        bench_scale_out(report, base, plan, work, asked, local_p50, local_load, plot)
        bench_quality(report, base, plan, work)
    write(report, args.out, plan, args.smoke, time.perf_counter() - started)
    print(f"wrote {args.out}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
