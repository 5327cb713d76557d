"""The running app through its public surfaces: gradio_client, the REST API, the SSE stream, the limits."""

from __future__ import annotations

import json
from concurrent.futures import ThreadPoolExecutor

import httpx
import pytest

from tests.servers import KEYED_LIMIT, PARTNER, chat, chat_client

QUESTION = "When was the Kidal camp closed?"


def sse_events(text: str) -> list[tuple[str, dict]]:
    events = []
    for block in text.strip().split("\n\n"):
        fields = dict(line.split(": ", 1) for line in block.splitlines())
        events.append((fields["event"], json.loads(fields["data"])))
    return events


def test_health_and_readiness(app_url) -> None:  # noqa: ANN001
    url, _ = app_url
    assert httpx.get(f"{url}/healthz").json() == {"status": "alive"}
    ready = httpx.get(f"{url}/readyz")
    assert ready.status_code == 200 and ready.json()["chunks"] > 50
    assert "/api/ask" in httpx.get(f"{url}/openapi.json").json()["paths"]


def test_chat_through_gradio_client(app_url) -> None:  # noqa: ANN001
    url, _ = app_url
    reply = chat(url, QUESTION)
    assert "31 October 2023" in reply and "[" in reply and "Sources" in reply


def test_gradio_refuses_empty_question_clearly(app_url) -> None:  # noqa: ANN001
    url, _ = app_url
    with pytest.raises(Exception, match="Please type a question"):
        chat(url, "   ")


def test_api_ask_returns_cli_json(app_url) -> None:  # noqa: ANN001
    url, _ = app_url
    body = httpx.post(f"{url}/api/ask", json={"question": QUESTION, "history": []}, timeout=60).json()
    assert set(body) == {"answer", "refused", "sources", "answer_id"}
    assert not body["refused"] and "31 October 2023" in body["answer"]
    assert {"n", "title", "source", "chunk_id", "score", "text"} == set(body["sources"][0])


def test_api_follow_up_uses_history(app_url) -> None:  # noqa: ANN001
    url, _ = app_url
    history = [
        {"role": "user", "content": "Which camp was closed on 31 October 2023?"},
        {"role": "assistant", "content": "Kidal."},
    ]
    body = httpx.post(
        f"{url}/api/ask",
        json={"question": "What happened to its last convoy?", "history": history},
        timeout=60,
    ).json()
    assert "explosive" in body["answer"].lower()


def test_api_stream_sends_tokens_then_the_answer(app_url) -> None:  # noqa: ANN001
    url, _ = app_url
    response = httpx.post(f"{url}/api/ask/stream", json={"question": QUESTION}, timeout=60)
    assert response.headers["content-type"].startswith("text/event-stream")
    events = sse_events(response.text)
    kinds = [kind for kind, _ in events]
    assert kinds[-1] == "answer" and kinds.count("token") >= 2 and set(kinds) == {"token", "answer"}
    assert "31 October 2023" in events[-1][1]["answer"]


@pytest.mark.parametrize("path", ["/api/ask", "/api/ask/stream"])
@pytest.mark.parametrize(
    ("question", "message"), [("", "Please type a question"), ("x" * 2001, "limit is 2000")]
)
def test_empty_or_long_question_is_422(app_url, path: str, question: str, message: str) -> None:  # noqa: ANN001
    url, _ = app_url
    response = httpx.post(f"{url}{path}", json={"question": question}, timeout=30)
    assert response.status_code == 422 and message in response.json()["detail"]


def test_off_topic_question_is_refused_over_http(app_url) -> None:  # noqa: ANN001
    url, _ = app_url
    body = httpx.post(
        f"{url}/api/ask", json={"question": "Who won the 2018 FIFA World Cup?"}, timeout=60
    ).json()
    assert body["refused"] and body["sources"] == []


def test_embed_and_widget_are_served(app_url) -> None:  # noqa: ANN001
    url, _ = app_url
    embed = httpx.get(f"{url}/embed")
    assert embed.status_code == 200 and "api/ask/stream" in embed.text
    assert (
        embed.headers["content-security-policy"]
        == "frame-ancestors 'self' http://localhost:* http://127.0.0.1:*"
    )
    widget = httpx.get(f"{url}/widget.js")
    assert widget.headers["content-type"].startswith("text/javascript") and "attachShadow" in widget.text


def test_cors_follows_allowed_origins(partner_app: str) -> None:
    url = partner_app
    ok = httpx.options(f"{url}/api/ask", headers={"Origin": PARTNER, "Access-Control-Request-Method": "POST"})
    assert ok.headers.get("access-control-allow-origin") == PARTNER
    for foreign in ("https://evil.example", "http://localhost:9999"):
        denied = httpx.post(
            f"{url}/api/ask", json={"question": QUESTION}, headers={"Origin": foreign}, timeout=120
        )
        assert "access-control-allow-origin" not in denied.headers
    assert httpx.get(f"{url}/embed").headers["content-security-policy"] == f"frame-ancestors 'self' {PARTNER}"


def test_one_rate_limit_for_chat_and_api_per_client(keyed_app: str) -> None:
    url = keyed_app  # RAG_TRUSTED_PROXIES=127.0.0.1: X-Forwarded-For names the client
    first, second = {"X-Forwarded-For": "203.0.113.1"}, {"X-Forwarded-For": "203.0.113.2"}

    def api(headers: dict[str, str]) -> int:
        return httpx.post(
            f"{url}/api/ask", json={"question": QUESTION}, headers=headers, timeout=30
        ).status_code

    assert [api(first) for _ in range(KEYED_LIMIT - 2)] == [200] * (KEYED_LIMIT - 2)
    with chat_client(url, first) as client:
        assert all("31 October 2023" in client.predict(QUESTION, api_name="/chat") for _ in range(2))
        with pytest.raises(Exception, match="Too many requests"):  # gradio_client past the shared limit
            client.predict(QUESTION, api_name="/chat")
    assert api(first) == 429
    assert api(second) == 200, "another client (by the trusted proxy's X-Forwarded-For) has its own count"
    assert "31 October 2023" in chat(url, QUESTION, second)
    assert httpx.get(f"{url}/healthz").status_code == 200, "health checks are not rate limited"


def test_busy_reply_past_the_queue(partner_app: str) -> None:
    url = partner_app

    # A French question waits on its translation by the bundled model (a second or so), so the six overlap even on
    # a loaded machine; an English one is answered in milliseconds and could pass through one by one.
    def ask(_: int) -> httpx.Response:
        return httpx.post(
            f"{url}/api/ask", json={"question": "Quand le camp de Kidal a-t-il fermé ?"}, timeout=120
        )

    with ThreadPoolExecutor(6) as pool:
        responses = list(pool.map(ask, range(6)))
    codes = sorted(r.status_code for r in responses)
    assert 200 in codes and 503 in codes, codes
    busy = next(r for r in responses if r.status_code == 503)
    assert "busy" in busy.json()["detail"] and busy.headers["retry-after"] == "5"
    assert httpx.post(f"{url}/api/ask", json={"question": QUESTION}, timeout=120).status_code == 200


def test_chat_says_busy_past_the_gradio_queue(partner_app: str) -> None:
    outcomes = []
    with chat_client(partner_app) as client:
        for job in [client.submit(QUESTION, api_name="/chat") for _ in range(5)]:
            try:
                outcomes.append(job.result(timeout=120))
            except Exception as exc:  # gradio_client raises the server's message
                outcomes.append(f"error: {exc}")
    answered = [o for o in outcomes if "31 October 2023" in o]
    turned_away = [
        o for o in outcomes if o.startswith("error") and ("busy" in o or "queue is full" in o.lower())
    ]
    assert answered and turned_away, outcomes
    assert len(answered) + len(turned_away) == len(outcomes), outcomes


@pytest.mark.parametrize(
    "probe",
    [
        "/gradio_api/file=.env",
        "/gradio_api/file=.ENV",
        "/gradio_api/file=.env.example",
        "/gradio_api/file=/etc/passwd",
        "/gradio_api/file=//host/share/x",
        "/gradio_api/file=http://127.0.0.1:22/",
        "/gradio_api/file=rag/config.py",
        "/gradio_api/file=corpus/05-casualties.md",
        "/gradio_api/file=../../etc/passwd",
        "/gradio_api/file=%2e%2e/%2e%2e/etc/passwd",
        "/gradio_api/file=http://169.254.169.254/latest/meta-data/",
        "/file=requirements.txt",
        "/static/../rag/config.py",
    ],
)
def test_no_project_files_are_served(app_url, probe: str) -> None:  # noqa: ANN001
    url, _ = app_url
    response = httpx.get(f"{url}{probe}", follow_redirects=False)
    assert response.status_code in (400, 403, 404), (probe, response.status_code)
    assert "location" not in response.headers
