"""The web app: the Gradio chat mounted in FastAPI beside the API (rag.api)."""

from __future__ import annotations

import html
import logging
import threading
from collections import OrderedDict
from collections.abc import Iterator
from typing import Any

import gradio as gr
from fastapi import FastAPI

from rag.answer import Answer
from rag.api import BUSY, TOO_MANY, Busy, Service, add_routes, secure, user_message
from rag.config import Settings
from rag.errors import RagError
from rag.openai_api import add_openai_routes
from rag.text import defang

log = logging.getLogger(__name__)

EXAMPLES = [
    "When did MINUSMA hand over the Mopti camp?",
    "Which resolution terminated MINUSMA's mandate?",
    "How many MINUSMA personnel died during the mission?",
    "When was the Alliance of Sahel States founded?",
]
# The page's own words, in the browser's language (Gradio translates its built-in labels itself).
I18N = gr.I18n(
    en={
        "description": "Answers come **only** from the documents listed below, about the UN mission in Mali "
        "(MINUSMA), its 2023 withdrawal and its context. Each answer cites its sources as [n]; when the documents "
        "do not hold the answer, the assistant says so. Questions may be asked in French; the documents are in "
        "English.",
        "documents": "Documents the assistant knows",
    },
    fr={
        "description": "Les réponses viennent **uniquement** des documents listés ci-dessous, sur la mission de "
        "l'ONU au Mali (MINUSMA), son retrait en 2023 et son contexte. Chaque réponse cite ses sources [n] ; quand "
        "les documents ne contiennent pas la réponse, l'assistant le dit. Vous pouvez poser vos questions en "
        "français ; les documents sont en anglais.",
        "documents": "Documents que l'assistant connaît",
    },
)
SOURCES_MARK = "<details><summary>"


def safe(text: str) -> str:
    """Document or model text shown as text: no HTML, no images, no links."""
    return html.escape(defang(text), quote=False)


def render(answer: Answer) -> str:
    """Markdown for the chat: the answer, then its sources in a collapsible block."""
    if answer.refused:
        return f"🚫 *{safe(answer.answer)}*"
    parts = [safe(answer.answer)]
    if answer.sources:
        items = []
        for s in answer.sources:
            heading = " — ".join(x for x in (s.title, s.section) if x)
            quote = safe(" ".join(s.text.split()))
            items.append(f"**[{s.n}] {safe(heading)}** ({s.date or 'undated'}, `{s.source}`)\n\n> {quote}")
        parts.append(
            f"{SOURCES_MARK}Sources ({len(items)})</summary>\n\n" + "\n\n".join(items) + "\n\n</details>"
        )
    return "\n\n".join(parts)


class Chat:
    """The chat function, the feedback log and the document list, over one Service."""

    def __init__(self, service: Service) -> None:
        self.service = service
        self.rendered: OrderedDict[str, str] = OrderedDict()  # the page's message → its answer_id, for thumbs
        self.feedback_lock = threading.Lock()

    def reply(self, message: str, history: list[dict[str, Any]], request: gr.Request) -> Iterator[str]:
        """Streamed tokens, then the checked answer with its sources; counted by the API's rate limit."""
        client = request.client.host if request and request.client else "unknown"
        if not self.service.rate.allow(client):
            raise gr.Error(TOO_MANY)
        turns = [{"role": t["role"], "content": _plain(_text(t["content"]))} for t in history]
        streamed = ""
        try:
            with self.service.admission:
                for event in self.service.current().assistant.stream(message, turns):
                    if event.final is not None:
                        shown = render(event.final)
                        self._remember(shown, event.final)
                        yield shown
                    else:
                        streamed += event.token
                        yield safe(streamed)
        except Busy:
            raise gr.Error(BUSY) from None
        except RagError as exc:
            log.warning("chat error: %s", exc)
            raise gr.Error(user_message(exc)) from None

    def record_feedback(self, history: list[dict[str, Any]], data: gr.LikeData) -> None:
        """Store a thumbs up/down with the question, answer and sources it rates."""
        index = data.index if isinstance(data.index, int) else data.index[0]
        message = _text(history[index]["content"])
        rating = "up" if data.liked else "down"
        with self.feedback_lock:
            answer_id = self.rendered.get(message)
        if answer_id:
            self.service.feedback.rate(answer_id, rating, door="chat")
            return
        # An answer given before this process started: store what the page shows.
        question = next((_text(t["content"]) for t in reversed(history[:index]) if t["role"] == "user"), "")
        self.service.feedback.add(
            rating=rating, question=question, answer=_plain(message), sources=[], door="chat"
        )

    def _remember(self, shown: str, answer: Answer) -> None:
        self.service.feedback.remember(answer)
        with self.feedback_lock:
            self.rendered[shown] = answer.answer_id
            while len(self.rendered) > self.service.feedback.recent:
                self.rendered.popitem(last=False)

    def documents(self) -> str:
        """The documents the assistant knows, as a Markdown list."""
        if not self.service.ready.is_set():
            return "The document list is loading…"
        try:
            docs = self.service.current().store.listing
        except RagError:
            return "The document list is unavailable right now."
        return "\n".join(
            f"- **{safe(title)}** ({date or 'undated'}) — `{source}`" for source, title, date in docs
        )


def _text(content: Any) -> str:
    if isinstance(content, str):
        return content
    if isinstance(content, list):
        return " ".join(str(c.get("text", "")) if isinstance(c, dict) else str(c) for c in content)
    return str(content)


def _plain(message: str) -> str:
    """An earlier reply as the model should see it: the answer without the rendered sources."""
    return html.unescape(message.partition(SOURCES_MARK)[0]).strip()


def build_chat(chat: Chat, settings: Settings) -> gr.Blocks:
    """The chat page."""
    with gr.Blocks(title="MINUSMA chat") as demo:
        gr.Markdown("# MINUSMA chat")
        gr.Markdown(I18N("description"))
        chatbot = gr.Chatbot(
            sanitize_html=True, render_markdown=True, height=560, label="MINUSMA chat", buttons=["copy"]
        )
        chatbot.like(chat.record_feedback, inputs=[chatbot], outputs=None, api_visibility="private")
        gr.ChatInterface(
            chat.reply,
            chatbot=chatbot,
            examples=EXAMPLES,
            run_examples_on_click=True,
            api_name="chat",
            concurrency_limit=settings.max_concurrent,
        )
        with gr.Accordion(I18N("documents"), open=False):
            listing = gr.Markdown()
        demo.load(chat.documents, None, listing, api_visibility="private")
    return demo


def create_app(settings: Settings | None = None, service: Service | None = None) -> FastAPI:
    """The FastAPI app: the chat at /, the API, health checks and the embeddable widget."""
    settings = settings or Settings.from_env()
    service = service or Service.started(settings)
    api = FastAPI(
        title="minusma-chat",
        description="Answers questions about MINUSMA from its documents, with citations.",
    )
    add_routes(api, service)
    add_openai_routes(api, service)
    secure(api, settings)
    demo = build_chat(Chat(service), settings)
    demo.queue(max_size=max(1, settings.queue_size), default_concurrency_limit=settings.max_concurrent)
    # Gradio's queue polls every 1 ms while empty (10 ms for progress) on Linux: 5% of a core per idle replica here.
    # Its own Windows intervals (50 ms, 100 ms) add at most 50 ms before a chat message is taken up; the API's routes
    # do not go through this queue. No public setting exists in Gradio 6.
    demo._queue.sleep_when_free = 0.05
    demo._queue.progress_update_sleep_when_free = 0.1
    # The chat takes no uploads; the limit keeps Gradio's generic upload route from taking large files.
    return gr.mount_gradio_app(
        api,
        demo,
        path="/",
        i18n=I18N,
        show_error=False,
        max_file_size="1mb",
        mcp_server=False,
        enable_monitoring=False,
    )
