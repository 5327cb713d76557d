"""`python -m rag eval`: score the product, and two references, on a JSONL question set."""

from __future__ import annotations

import hashlib
import json
import re
import statistics
import time
from collections import defaultdict
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from rag.answer import Answer, Source
from rag.config import Settings
from rag.errors import InputRejected
from rag.runtime import Runtime
from rag.text import key_terms, split_sentences, term_in

CATEGORIES = (
    "plain", "paraphrased", "colloquial", "list", "why", "multi-turn", "french",
    "unanswerable", "false-premise", "off-topic", "adversarial",
)  # fmt: skip
# Older sets used "factual" for plain questions.
ALIASES = {"factual": "plain"}
TUTORIAL_PROMPT = (
    "You are an assistant for question-answering tasks. Use the following pieces of retrieved context to answer "
    "the question. If you don't know the answer, just say that you don't know. Use three sentences maximum and "
    "keep the answer concise.\nQuestion: {question} \nContext: {context} \nAnswer:"
)

TUTORIAL_MAX_TOKENS = 80

System = Callable[[str, list[dict[str, str]]], Answer]


@dataclass
class Result:
    """One scored item."""

    item: dict[str, Any]
    answer: Answer
    latency_ms: float
    passed: bool
    hit: bool | None
    ungrounded: set[str]

    def to_json(self) -> dict[str, Any]:
        """The documented output line."""
        return {
            "id": self.item["id"],
            "answer": self.answer.answer,
            "refused": self.answer.refused,
            "sources": self.answer.to_json()["sources"],
            "latency_ms": round(self.latency_ms, 1),
            "pass": self.passed,
        }


def category(item: dict[str, Any]) -> str:
    """The item's category, given or inferred."""
    given = ALIASES.get(str(item.get("category")), str(item.get("category")))
    if given in CATEGORIES:
        return given
    if item.get("turns"):
        return "multi-turn"
    return "unanswerable" if item.get("unanswerable") else "plain"


def split(item: dict[str, Any]) -> str:
    """ "dev" or "test", by a hash of the id: fixed before any tuning, the same on every machine."""
    return "test" if hashlib.sha256(item["id"].encode()).digest()[0] % 2 else "dev"


def judge(item: dict[str, Any], answer: Answer) -> bool:
    """Pass: refused when it must be (or may be), else every expect and enough expect_some match; no forbid."""
    text = answer.answer
    if any(re.search(p, text, re.I) for p in item.get("forbid", [])):
        return False
    if answer.refused:
        return bool(item.get("unanswerable") or item.get("refusal_ok"))
    if item.get("unanswerable"):
        return False
    some = item.get("expect_some", [])
    enough = sum(bool(re.search(p, text, re.I)) for p in some) >= item.get("min_some", len(some))
    return enough and all(re.search(p, text, re.I) for p in item.get("expect", []))


def ungrounded(answer: Answer) -> set[str]:
    """Numbers, dates and names of an answer absent from the passages it cites."""
    if answer.refused or not answer.sources:
        return set()
    cited = " ".join(f"{s.title} {s.text}" for s in answer.sources)
    text = answer.answer.replace(answer.note, "")
    return {t for t in key_terms(re.sub(r"\[\d+\]", "", text)) if not term_in(t, cited)}


def run_item(system: System, item: dict[str, Any]) -> tuple[Answer, float]:
    """Ask the earlier turns in order, then time the last one."""
    turns = item.get("turns") or [item["q"]]
    history: list[dict[str, str]] = []
    for turn in turns[:-1]:
        history += [
            {"role": "user", "content": turn},
            {"role": "assistant", "content": system(turn, history).answer},
        ]
    started = time.perf_counter()
    try:
        answer = system(turns[-1], history)
    except InputRejected as exc:  # the API answers these with 400 and the reason: a refusal
        answer = Answer(str(exc), True, [], turns[-1], turns[-1])
    return answer, (time.perf_counter() - started) * 1000


def evaluate(system: System, items: list[dict[str, Any]]) -> list[Result]:
    """Score every item."""
    results = []
    for item in items:
        answer, latency = run_item(system, item)
        wanted = {Path(s).name for s in item.get("source", [])}
        hit = any(Path(s.source).name in wanted for s in answer.retrieved[:5]) if wanted else None
        results.append(Result(item, answer, latency, judge(item, answer), hit, ungrounded(answer)))
    return results


def summarize(results: list[Result]) -> dict[str, Any]:
    """Accuracy per category, refusals, hit@5, grounding and latency."""
    by_cat: dict[str, list[bool]] = defaultdict(list)
    for r in results:
        by_cat[category(r.item)].append(r.passed)
    unanswerable = [r.answer.refused for r in results if r.item.get("unanswerable")]
    # Precision of refusal: of the refusals among items that must be refused or must be answered (false premises
    # may be either), the share that had to be.
    refusals = [
        bool(r.item.get("unanswerable")) for r in results if r.answer.refused and not r.item.get("refusal_ok")
    ]
    hits = [r.hit for r in results if r.hit is not None]
    latencies = sorted(r.latency_ms for r in results)
    return {
        "overall": sum(r.passed for r in results) / len(results),
        "categories": {c: (sum(v) / len(v), len(v)) for c, v in by_cat.items()},
        "refused_unanswerable": sum(unanswerable) / len(unanswerable) if unanswerable else None,
        "refusal_precision": sum(refusals) / len(refusals) if refusals else None,
        "hit_at_5": sum(hits) / len(hits) if hits else None,
        "ungrounded_answers": sum(bool(r.ungrounded) for r in results),
        "p50_ms": statistics.median(latencies),
        "p95_ms": latencies[min(len(latencies) - 1, int(0.95 * len(latencies)))],
        "n": len(results),
    }


def format_summary(name: str, s: dict[str, Any]) -> str:
    """One block of printed figures."""
    cats = ", ".join(f"{c} {acc:.0%} ({n})" for c, (acc, n) in sorted(s["categories"].items()))
    hit = "n/a" if s["hit_at_5"] is None else f"{s['hit_at_5']:.0%}"
    return (
        f"{name}: overall {s['overall']:.1%} of {s['n']} | {cats}\n"
        f"  refusal recall {_share(s['refused_unanswerable'])}, precision {_share(s['refusal_precision'])} | "
        f"retrieval hit@5 {hit} | "
        f"answers with ungrounded numbers/names {s['ungrounded_answers']} | "
        f"latency p50 {s['p50_ms']:.0f} ms, p95 {s['p95_ms']:.0f} ms"
    )


def _share(value: float | None) -> str:
    return "n/a" if value is None else f"{value:.0%}"


def tutorial_system(runtime: Runtime) -> System:
    """LangChain's tutorial RAG: 1000/200 splits, dense top-4, the tutorial prompt, the same LLM."""
    import chromadb
    from langchain_chroma import Chroma
    from langchain_core.output_parsers import StrOutputParser
    from langchain_core.prompts import PromptTemplate
    from langchain_text_splitters import RecursiveCharacterTextSplitter

    from rag.ingest import discover, load_document

    splitter = RecursiveCharacterTextSplitter(chunk_size=1000, chunk_overlap=200)
    texts, metas = [], []
    for path in discover([runtime.settings.corpus_dir])[0]:
        doc = load_document(path, 10**9)
        for piece in splitter.split_text("\n\n".join(s.text for s in doc.sections)):
            texts.append(piece)
            metas.append({"source": path.name, "title": doc.title})
    client = chromadb.EphemeralClient()
    store = Chroma(client=client, collection_name="tutorial", embedding_function=runtime.embeddings)
    store.add_texts(texts, metas)
    if runtime.llm is None:
        raise ValueError("the tutorial reference needs an LLM backend")
    # The tutorial sets no stop sequence: the model writes until it ends its turn or reaches the token limit,
    # which stays at the 80 tokens the reference was first measured with ("three sentences maximum").
    llm = runtime.llm.bind(stop=["<end_of_turn>"], max_tokens=TUTORIAL_MAX_TOKENS)
    chain = PromptTemplate.from_template(TUTORIAL_PROMPT) | llm | StrOutputParser()

    def ask(question: str, history: list[dict[str, str]]) -> Answer:
        docs = store.similarity_search(question, k=4)
        text = chain.invoke({"question": question, "context": "\n\n".join(d.page_content for d in docs)})
        sources = [
            Source(n, d.metadata["title"], d.metadata["source"], d.id or "", 0.0, d.page_content)
            for n, d in enumerate(docs, 1)
        ]
        refused = bool(re.search(r"don'?t know|do not know", text, re.I))
        return Answer(text.strip(), refused, sources, question, question, sources)

    return ask


def closest_sentence_system(runtime: Runtime) -> System:
    """No LLM: the single corpus sentence closest to the question."""
    import numpy as np

    from rag.ingest import discover, load_document

    rows: list[tuple[str, str, str]] = []
    for path in discover([runtime.settings.corpus_dir])[0]:
        doc = load_document(path, 10**9)
        rows += [(s, path.name, doc.title) for section in doc.sections for s in split_sentences(section.text)]
    vectors = np.asarray(runtime.embeddings.embed_documents([r[0] for r in rows]))

    def ask(question: str, history: list[dict[str, str]]) -> Answer:
        query = " ".join([t["content"] for t in history if t["role"] == "user"] + [question])
        best = int(np.argmax(vectors @ np.asarray(runtime.embeddings.embed_query(query))))
        text, source, title = rows[best]
        sources = [Source(1, title, source, "", 0.0, text)]
        return Answer(f"{text} [1]", False, sources, question, query, sources)

    return ask


def product_system(runtime: Runtime) -> System:
    """The product itself."""
    return lambda question, history: runtime.assistant.ask(question, history)


SYSTEMS = {
    "product": product_system,
    "tutorial": tutorial_system,
    "closest-sentence": closest_sentence_system,
}


def load_items(path: Path, which: str = "all") -> list[dict[str, Any]]:
    """The JSONL items of a file or of every .jsonl file in a folder, optionally one split of them."""
    files = sorted(path.glob("*.jsonl")) if path.is_dir() else [path]
    items = [
        json.loads(line) for f in files for line in f.read_text(encoding="utf-8").splitlines() if line.strip()
    ]
    return [i for i in items if which == "all" or split(i) == which]


def run(
    path: Path,
    out: Path | None,
    settings: Settings,
    system: str = "product",
    report_to: Path | None = None,
    which: str = "all",
) -> int:
    """Evaluate one system (or `all`), print the figures, write results; 0 on success."""
    items = load_items(path, which)
    runtime = Runtime(settings)
    names = list(SYSTEMS) if system == "all" else [system]
    report = []
    for name in names:
        results = evaluate(SYSTEMS[name](runtime), items)
        summary = summarize(results)
        print(format_summary(name, summary), flush=True)
        report.append((name, summary))
        if out and name == names[0]:
            out.write_text("".join(json.dumps(r.to_json(), ensure_ascii=False) + "\n" for r in results))
        for r in results:
            if not r.passed and name == "product":
                print(f"  FAIL {r.item['id']}: {r.answer.answer[:160]!r}")
    if report_to:
        append_report(report_to, path, report, settings)
    return 0


def append_report(
    report_to: Path, path: Path, report: list[tuple[str, dict[str, Any]]], settings: Settings
) -> None:
    """Add one set's table, the systems side by side, to a Markdown report."""
    rows = [
        "| system | overall | "
        + " | ".join(CATEGORIES)
        + " | refusal recall | refusal precision | hit@5 | ungrounded answers | p50 ms | p95 ms |",
        "|---|---|" + "---|" * (len(CATEGORIES) + 6),
    ]
    for name, s in report:
        cats = [f"{s['categories'][c][0]:.0%}" if c in s["categories"] else "n/a" for c in CATEGORIES]
        hit = "n/a" if s["hit_at_5"] is None else f"{s['hit_at_5']:.0%}"
        rows.append(
            f"| {name} | {s['overall']:.1%} | {' | '.join(cats)} | {_share(s['refused_unanswerable'])} | "
            f"{_share(s['refusal_precision'])} | {hit} | "
            f"{s['ungrounded_answers']} | {s['p50_ms']:.0f} | {s['p95_ms']:.0f} |"
        )
    section = (
        f"## `{path}` ({report[0][1]['n']} items)\n\nLLM `{settings.llm}`, retrieval `{settings.retrieval}` "
        f"(top {settings.top_k} of {settings.rerank_candidates} reranked), chunks "
        f"{settings.chunk_size}/{settings.chunk_overlap}.\n\n" + "\n".join(rows) + "\n\n"
    )
    with report_to.open("a", encoding="utf-8") as fh:
        fh.write(section)
