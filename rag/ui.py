"""The web app: the Gradio chat mounted in FastAPI, with a JSON API and health checks."""

from __future__ import annotations

import html
import logging
import re
import threading
from collections.abc import Iterator
from typing import Any

import gradio as gr
from fastapi import FastAPI
from fastapi.responses import JSONResponse
from pydantic import BaseModel, Field

from rag.answer import Answer
from rag.config import Settings
from rag.errors import InputRejected, LLMUnavailable, RagError, RetrievalUnavailable
from rag.runtime import Runtime

log = logging.getLogger(__name__)

EXAMPLES = [
    "When did MINUSMA hand over the Mopti camp?",
    "Which resolution terminated MINUSMA's mandate?",
    "How many MINUSMA personnel died during the mission?",
    "When was the Alliance of Sahel States founded?",
]
SEARCH_DOWN = "Search is unavailable right now; please try again in a moment."
LLM_DOWN = "The answer service is unavailable right now; please try again in a moment."
UNEXPECTED = "Something went wrong on our side; please try again."


class Turn(BaseModel):
    """One earlier message of the conversation."""

    role: str = Field(pattern="^(user|assistant)$")
    content: str


class AskRequest(BaseModel):
    """The body of POST /api/ask."""

    question: str
    history: list[Turn] = []


def user_message(exc: Exception) -> str:
    """The fixed text a user sees for an error; details stay in the log."""
    if isinstance(exc, InputRejected):
        return str(exc)
    if isinstance(exc, RetrievalUnavailable):
        return SEARCH_DOWN
    if isinstance(exc, LLMUnavailable):
        return LLM_DOWN
    return UNEXPECTED


def safe(text: str) -> str:
    """Document or model text shown as text: no HTML, no remote images."""
    text = re.sub(r"!\[([^\]]*)\]\([^)]*\)", r"\1", text)
    return html.escape(text, quote=False)


def render(answer: Answer) -> str:
    """Markdown for the chat: the answer, then its sources."""
    if answer.refused:
        return f"🚫 *{safe(answer.answer)}*"
    parts = [safe(answer.answer)]
    if answer.sources:
        parts.append("**Sources**")
        for s in answer.sources:
            heading = " — ".join(x for x in (s.title, s.section) if x)
            quote = safe(s.text).replace("\n", " ")
            parts.append(f"[{s.n}] **{safe(heading)}** ({s.date or 'undated'}, `{s.source}`)\n> {quote}")
    return "\n\n".join(parts)


class App:
    """Holds the runtime, loaded in the background so the server answers /healthz at once."""

    def __init__(self, settings: Settings) -> None:
        self.settings = settings
        self.runtime = Runtime(settings)
        self.ready = threading.Event()
        self.load_error: Exception | None = None

    def load(self) -> None:
        """Load models and index; readiness follows."""
        try:
            _ = self.runtime.assistant
            self.ready.set()
        except Exception as exc:  # reported by /readyz; the process stays up
            log.exception("startup failed")
            self.load_error = exc

    def chat(self, message: str, history: list[dict[str, Any]]) -> Iterator[str]:
        """The Gradio chat function: streamed tokens, then the checked answer with sources."""
        if not self.ready.wait(timeout=60):
            raise gr.Error("The assistant is still starting; try again in a moment.")
        turns = [{"role": t["role"], "content": _text(t["content"])} for t in history]
        streamed = ""
        try:
            for event in self.runtime.assistant.stream(message, turns):
                if event.final is not None:
                    yield render(event.final)
                else:
                    streamed += event.token
                    yield safe(streamed)
        except RagError as exc:
            log.warning("chat error: %s", exc)
            raise gr.Error(user_message(exc)) from None


def _text(content: Any) -> str:
    if isinstance(content, str):
        return content
    if isinstance(content, list):
        return " ".join(str(c.get("text", "")) if isinstance(c, dict) else str(c) for c in content)
    return str(content)


def build_chat(app: App) -> gr.Blocks:
    """The chat page."""
    return gr.ChatInterface(
        app.chat,
        title="MINUSMA chat",
        description=(
            "Answers come only from the project's documents about the UN mission in Mali (MINUSMA); "
            "each answer cites its sources, and the bot says so when the documents do not hold the answer."
        ),
        examples=EXAMPLES,
        run_examples_on_click=True,
        api_name="chat",
        concurrency_limit=4,
        chatbot=gr.Chatbot(sanitize_html=True, render_markdown=True, height=560),
    )


def create_app(settings: Settings | None = None) -> FastAPI:
    """The FastAPI app with the chat at / and the API beside it."""
    settings = settings or Settings.from_env()
    app = App(settings)
    threading.Thread(target=app.load, daemon=True).start()
    api = FastAPI(
        title="minusma-chat", description="Answers about MINUSMA from its documents, with citations."
    )

    @api.get("/healthz")
    def healthz() -> dict[str, str]:
        return {"status": "alive"}

    @api.get("/readyz")
    def readyz() -> JSONResponse:
        if app.ready.is_set():
            try:
                chunks = app.runtime.store.count()
            except Exception:
                return JSONResponse({"status": "index unavailable"}, status_code=503)
            if chunks:
                return JSONResponse({"status": "ready", "chunks": chunks})
            return JSONResponse({"status": "index empty"}, status_code=503)
        status = "failed" if app.load_error else "starting"
        return JSONResponse({"status": status}, status_code=503)

    @api.post("/api/ask")
    def ask(request: AskRequest) -> JSONResponse:
        if not app.ready.wait(timeout=60):
            return JSONResponse({"detail": "starting"}, status_code=503)
        try:
            answer = app.runtime.assistant.ask(request.question, [t.model_dump() for t in request.history])
        except InputRejected as exc:
            return JSONResponse({"detail": str(exc)}, status_code=422)
        except RagError as exc:
            log.warning("api error: %s", exc)
            return JSONResponse({"detail": user_message(exc)}, status_code=503)
        return JSONResponse(answer.to_json())

    chat = build_chat(app)
    chat.queue(max_size=32, default_concurrency_limit=4)
    return gr.mount_gradio_app(api, chat, path="/", show_error=False)
