"""Load, as an operator meets it: fifty chats land at once, through the API and through Gradio. Safety checklist S16."""

from __future__ import annotations

import time
from concurrent.futures import ThreadPoolExecutor

import httpx

from bench.load import rss_mb
from rag.evaluate import load_items
from tests.servers import ROOT, ask, chat_client


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
