"""The HTTP surface beside the chat: JSON and streaming API, health checks, embedding, and their guards."""

from __future__ import annotations

import json
import logging
import threading
import time
from collections.abc import Iterator
from pathlib import Path

import limits
import limits.storage
import limits.strategies
from fastapi import FastAPI, Request
from fastapi.middleware.cors import CORSMiddleware
from fastapi.responses import FileResponse, HTMLResponse, JSONResponse, Response, StreamingResponse
from pydantic import BaseModel, Field
from starlette.middleware.base import BaseHTTPMiddleware, RequestResponseEndpoint

from rag.answer import Answer, Event, check_question
from rag.config import Settings
from rag.errors import InputRejected, LLMUnavailable, RagError, RetrievalUnavailable
from rag.feedback import Feedback, UnknownAnswer
from rag.runtime import Runtime

log = logging.getLogger(__name__)

STATIC = Path(__file__).parent / "static"
LOCALHOST_ORIGINS = r"https?://(localhost|127\.0\.0\.1)(:\d+)?"
SEARCH_DOWN = "Search is unavailable right now; please try again in a moment."
LLM_DOWN = "The answer service is unavailable right now; please try again in a moment."
START_WAIT_S = 60
RETRY_LOAD_S = 5
BUSY = "The assistant is busy; please try again in a moment."
TOO_MANY = "Too many requests; please wait a minute."
UNEXPECTED = "Something went wrong on our side; please try again."


class Turn(BaseModel):
    """One earlier message of the conversation."""

    role: str = Field(pattern="^(user|assistant)$")
    content: str


class AskRequest(BaseModel):
    """The body of POST /api/ask and /api/ask/stream."""

    question: str
    history: list[Turn] = []


class FeedbackRequest(BaseModel):
    """The body of POST /api/feedback: a rating of an answer this server gave."""

    answer_id: str = Field(max_length=64)
    rating: str = Field(pattern="^(up|down)$")
    comment: str = ""


def user_message(exc: Exception) -> str:
    """The fixed text a user sees for an error; details stay in the log."""
    if isinstance(exc, InputRejected):
        return str(exc)
    if isinstance(exc, RetrievalUnavailable):
        return SEARCH_DOWN
    if isinstance(exc, LLMUnavailable):
        return LLM_DOWN
    return UNEXPECTED


class Busy(Exception):
    """More requests are waiting than the queue holds."""


class Admission:
    """At most `concurrent` answers at once and `queue` waiting; anything beyond is turned away at once."""

    def __init__(self, concurrent: int, queue: int) -> None:
        self.slots = threading.Semaphore(concurrent)
        self.capacity = concurrent + queue
        self.inside = 0
        self.lock = threading.Lock()

    def __enter__(self) -> None:
        with self.lock:
            if self.inside >= self.capacity:
                raise Busy
            self.inside += 1
        self.slots.acquire()

    def __exit__(self, *_: object) -> None:
        self.slots.release()
        with self.lock:
            self.inside -= 1


class RateLimiter:
    """Requests per client address in a moving one-minute window, counted alike at every door (limits library).

    The count lives in RAG_RATE_LIMIT_STORAGE: this process's memory by default, or a shared Redis
    (`redis://host:6379`, with the `redis` package) so that several replicas count together.
    """

    def __init__(self, per_minute: int, storage_uri: str = "memory://") -> None:
        self.limit = limits.RateLimitItemPerMinute(per_minute)
        self.window = limits.strategies.MovingWindowRateLimiter(
            limits.storage.storage_from_string(storage_uri)
        )

    def allow(self, client: str) -> bool:
        """Count a request; False once the client is over its limit."""
        return self.window.hit(self.limit, "questions", client)


class FrameAncestors(BaseHTTPMiddleware):
    """Only the allowed origins may frame any page of the app."""

    def __init__(self, app: object, ancestors: str) -> None:
        super().__init__(app)  # type: ignore[arg-type]
        self.policy = f"frame-ancestors {ancestors}"

    async def dispatch(self, request: Request, call_next: RequestResponseEndpoint) -> Response:
        response = await call_next(request)
        response.headers["Content-Security-Policy"] = self.policy
        response.headers["X-Content-Type-Options"] = "nosniff"
        return response


class Service:
    """The runtime, loaded in the background so the server answers /healthz at once, reopened when the index changes."""

    def __init__(self, settings: Settings, runtime: Runtime | None = None) -> None:
        self.settings = settings
        self.runtime = runtime or Runtime(settings, late_keyword=True)
        self.ready = threading.Event()
        self.first_load_done = threading.Event()  # set when the first load has succeeded or failed
        self.load_error: Exception | None = None
        self.failed_at = 0.0
        self.loading = threading.Lock()
        self.reopening = threading.Lock()
        self.admission = Admission(settings.max_concurrent, settings.queue_size)
        self.rate = RateLimiter(settings.rate_limit_per_min, settings.rate_limit_storage)
        self.feedback = Feedback(settings.data_dir / "feedback.jsonl")

    @classmethod
    def started(cls, settings: Settings) -> Service:
        """A service already loading its models in the background (start it before importing the web layer)."""
        service = cls(settings)
        service.load_in_background()
        return service

    def load_in_background(self) -> None:
        """Start loading unless a load is running."""
        if self.loading.acquire(blocking=False):
            threading.Thread(target=self.load, daemon=True, name="load-models").start()

    def load(self) -> None:
        """Load models and index; readiness follows. Call with `loading` held."""
        try:
            _ = self.runtime.assistant
            self.load_error = None
            self.ready.set()
        except Exception as exc:  # reported by /readyz and to users; retried later
            log.exception("startup failed")
            self.load_error = exc
            self.failed_at = time.monotonic()
            self.runtime = self.runtime.renewed()
        finally:
            self.first_load_done.set()
            self.loading.release()

    def current(self) -> Runtime:
        """The runtime over the index as it is on disk now; raises RagError while it cannot serve."""
        self.first_load_done.wait(timeout=START_WAIT_S)
        if not self.ready.is_set():
            if self.load_error and time.monotonic() - self.failed_at > RETRY_LOAD_S:
                self.load_in_background()
            raise (
                self.load_error
                if isinstance(self.load_error, RagError)
                else RetrievalUnavailable("not loaded")
            )
        with self.reopening:
            runtime = self.runtime
            if runtime.store.generation() != runtime.store.opened:
                log.warning("the index changed (an ingest ran); reopening it")
                in_process = not self.settings.chroma_host
                if in_process:
                    # chromadb keeps one reader per path, with the vectors it read: only once it is closed does
                    # a new one read the files now there (a question searching at this instant is refused)
                    runtime.store.close()
                fresh = runtime.renewed()
                _ = fresh.assistant
                fresh.keyword.wait()  # the changed index is served whole: questions meanwhile wait, then get it
                self.runtime = fresh
                if not in_process:
                    runtime.store.close()
            return self.runtime

    def readiness(self) -> tuple[int, dict[str, object]]:
        """503 until the models and index are loaded, and while the index cannot be read or is empty."""
        if not self.ready.is_set() and not self.load_error:
            return 503, {"status": "starting"}
        try:
            runtime = self.current()
            chunks = runtime.store.count()
        except Exception as exc:
            log.warning("not ready: %s", exc)
            return 503, {"status": "unavailable"}
        if not chunks:
            return 503, {"status": "index empty"}
        keyword = "ready" if runtime.keyword.wait(0) else "not ready (search is dense only meanwhile)"
        return 200, {"status": "ready", "chunks": chunks, "keyword_index": keyword}


def server_options(settings: Settings) -> dict[str, object]:
    """uvicorn's options: X-Forwarded-For is believed only from RAG_TRUSTED_PROXIES (never by default)."""
    options: dict[str, object] = {"host": settings.host, "port": settings.port, "proxy_headers": False}
    if settings.trusted_proxies:
        options.update(proxy_headers=True, forwarded_allow_ips=settings.trusted_proxies)
    return options


def add_routes(api: FastAPI, service: Service) -> None:
    """The JSON API, SSE stream, health checks, embed page and widget script."""
    settings = service.settings

    def guard(request: Request) -> JSONResponse | None:
        if not service.rate.allow(client_of(request)):
            return JSONResponse({"detail": TOO_MANY}, status_code=429)
        return None

    @api.get("/healthz", tags=["health"])
    def healthz() -> dict[str, str]:
        """The process is alive."""
        return {"status": "alive"}

    @api.get("/readyz", tags=["health"])
    def readyz() -> JSONResponse:
        """The index and the LLM are loaded (503 otherwise)."""
        status, body = service.readiness()
        return JSONResponse(body, status_code=status)

    @api.post("/api/ask", tags=["api"])
    def ask(body: AskRequest, request: Request) -> JSONResponse:
        """Answer a question from the documents: the same JSON as `python -m rag ask --json`."""
        refused = guard(request)
        if refused:
            return refused
        try:
            answer = answer_once(service, body.question, [t.model_dump() for t in body.history])
        except Busy:
            return JSONResponse({"detail": BUSY}, status_code=503, headers={"Retry-After": "5"})
        except InputRejected as exc:
            return JSONResponse({"detail": str(exc)}, status_code=422)
        except RagError as exc:
            log.warning("api error: %s", exc)
            return JSONResponse({"detail": user_message(exc)}, status_code=503)
        return JSONResponse(answer.to_json())

    @api.post("/api/ask/stream", tags=["api"])
    def ask_stream(body: AskRequest, request: Request) -> Response:
        """The answer as server-sent events: `token` events, then one `answer` event (or `error`)."""
        refused = guard(request)
        if refused:
            return refused
        history = [t.model_dump() for t in body.history]
        try:
            check_question(body.question, settings)  # a bad question gets a status code, not a stream
        except InputRejected as exc:
            return JSONResponse({"detail": str(exc)}, status_code=422)
        return StreamingResponse(
            sse_events(service, body.question, history),
            media_type="text/event-stream",
            headers={"Cache-Control": "no-store", "X-Accel-Buffering": "no"},
        )

    @api.post("/api/feedback", tags=["api"])
    def feedback(body: FeedbackRequest, request: Request) -> JSONResponse:
        """Thumbs up or down on an answer, by the `answer_id` it came with; stored with its question and sources."""
        refused = guard(request)
        if refused:
            return refused
        try:
            service.feedback.rate(body.answer_id, body.rating, body.comment, door="api")
        except UnknownAnswer as exc:
            return JSONResponse({"detail": str(exc)}, status_code=404)
        except InputRejected as exc:
            return JSONResponse({"detail": str(exc)}, status_code=422)
        return JSONResponse({"status": "recorded"})

    @api.get("/embed", response_class=HTMLResponse, include_in_schema=False)
    def embed() -> FileResponse:
        return FileResponse(STATIC / "embed.html", media_type="text/html")

    @api.get("/gradio.js", include_in_schema=False)
    def gradio_web_component() -> FileResponse:
        # Gradio's own loader for <gradio-app>; it imports ./assets/…, which the mounted Gradio app serves.
        import gradio

        frontend = Path(gradio.__file__).parent / "templates" / "frontend"
        return FileResponse(frontend / "gradio.js", media_type="text/javascript")

    @api.get("/widget.js", include_in_schema=False)
    def widget() -> FileResponse:
        return FileResponse(
            STATIC / "widget.js", media_type="text/javascript", headers={"Cache-Control": "max-age=300"}
        )


def client_of(request: Request) -> str:
    """The client's address (X-Forwarded-For is applied by uvicorn only for RAG_TRUSTED_PROXIES)."""
    return request.client.host if request.client else "unknown"


def answer_events(service: Service, question: str, history: list[dict[str, str]]) -> Iterator[Event]:
    """One answer's events within the admission budget; the final answer is kept for feedback."""
    with service.admission:
        for event in service.current().assistant.stream(question, history):
            if event.final is not None:
                service.feedback.remember(event.final)
            yield event


def answer_once(service: Service, question: str, history: list[dict[str, str]]) -> Answer:
    """The whole answer at once (raises Busy or RagError)."""
    final = None
    for event in answer_events(service, question, history):
        final = event.final or final
    assert final is not None
    return final


def sse_events(service: Service, question: str, history: list[dict[str, str]]) -> Iterator[str]:
    """Server-sent events for one answer; errors become an `error` event, never a trace."""
    try:
        for event in answer_events(service, question, history):
            if event.final is None:
                yield _sse("token", {"text": event.token})
            else:
                yield _sse("answer", event.final.to_json())
    except Busy:
        yield _sse("error", {"detail": BUSY})
    except RagError as exc:
        log.warning("stream error: %s", exc)
        yield _sse("error", {"detail": user_message(exc)})
    except Exception:
        log.exception("stream failed")
        yield _sse("error", {"detail": UNEXPECTED})


def _sse(event: str, data: object) -> str:
    return f"event: {event}\ndata: {json.dumps(data, ensure_ascii=False)}\n\n"


def secure(api: FastAPI, settings: Settings) -> None:
    """CORS for the API and frame-ancestors for every page follow RAG_ALLOWED_ORIGINS."""
    origins = settings.origins
    api.add_middleware(
        FrameAncestors,
        ancestors=" ".join(["'self'", *origins])
        if origins
        else "'self' http://localhost:* http://127.0.0.1:*",
    )
    api.add_middleware(
        CORSMiddleware,
        allow_origins=origins,
        allow_origin_regex=None if origins else LOCALHOST_ORIGINS,
        allow_methods=["GET", "POST"],
        allow_headers=["*"],
    )
