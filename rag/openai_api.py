"""The OpenAI-compatible door: POST /v1/chat/completions and GET /v1/models over the same checked answers."""

from __future__ import annotations

import hmac
import json
import logging
import re
import time
import uuid
from collections.abc import Iterator
from typing import Any, Literal

from fastapi import Body, FastAPI, Request
from fastapi.responses import JSONResponse, Response, StreamingResponse
from pydantic import BaseModel, ConfigDict, ValidationError

from rag.answer import Answer, check_question
from rag.api import (
    BUSY,
    TOO_MANY,
    UNEXPECTED,
    Busy,
    Service,
    answer_events,
    answer_once,
    client_of,
    user_message,
)
from rag.errors import InputRejected, RagError

log = logging.getLogger(__name__)

LOOPBACK = ("127.0.0.1", "::1", "localhost")
CREATED = int(time.time())
# Usage counts words and punctuation marks: this server runs no tokenizer of the model it stands for.
PIECE = re.compile(r"\w+|[^\w\s]")


class Part(BaseModel):
    """One part of a message's content (only text parts are read)."""

    model_config = ConfigDict(extra="allow")
    type: str = "text"
    text: str = ""


class Message(BaseModel):
    """One chat message as OpenAI's API sends it."""

    model_config = ConfigDict(extra="allow")
    role: Literal["system", "developer", "user", "assistant", "tool"]
    content: str | list[Part] | None = None

    @property
    def text(self) -> str:
        """The message's text."""
        if isinstance(self.content, list):
            return " ".join(p.text for p in self.content if p.type == "text")
        return self.content or ""


class ChatRequest(BaseModel):
    """The body of POST /v1/chat/completions; sampling options are accepted and ignored."""

    model_config = ConfigDict(extra="allow")
    model: str = ""
    messages: list[Message]
    stream: bool = False
    stream_options: dict[str, Any] | None = None


def error(status: int, message: str, kind: str, code: str | None = None) -> JSONResponse:
    """An error in OpenAI's shape, so its clients report the message."""
    headers = {"Retry-After": "5"} if status in (429, 503) else None
    body = {"error": {"message": message, "type": kind, "param": None, "code": code}}
    return JSONResponse(body, status_code=status, headers=headers)


def add_openai_routes(api: FastAPI, service: Service) -> None:
    """/v1/models and /v1/chat/completions, under the API's key, rate and admission rules."""
    keys = service.settings.keys

    def refused(request: Request) -> JSONResponse | None:
        if keys:
            token = request.headers.get("authorization", "").removeprefix("Bearer ").strip()
            if not any(hmac.compare_digest(token.encode(), k.encode()) for k in keys):
                return error(
                    401,
                    "Invalid or missing API key (Authorization: Bearer …).",
                    "invalid_request_error",
                    "invalid_api_key",
                )
        elif client_of(request) not in LOOPBACK:
            return error(
                401,
                "This server takes OpenAI-style requests from other hosts only with RAG_API_KEYS set.",
                "invalid_request_error",
                "invalid_api_key",
            )
        if not service.rate.allow(client_of(request)):
            return error(429, TOO_MANY, "rate_limit_error", "rate_limit_exceeded")
        return None

    @api.get("/v1/models", tags=["openai"])
    def models(request: Request) -> JSONResponse:
        """The one model this server offers: the document-grounded assistant."""
        denied = refused(request)
        if denied:
            return denied
        name = service.settings.model_name
        model = {"id": name, "object": "model", "created": CREATED, "owned_by": name}
        return JSONResponse({"object": "list", "data": [model]})

    @api.post("/v1/chat/completions", tags=["openai"], response_model=None)
    def completions(request: Request, body: dict[str, Any] = Body(...)) -> Response:  # noqa: B008
        """The checked, cited answer to the last user message, the earlier turns as its history."""
        denied = refused(request)
        if denied:
            return denied
        try:
            chat = ChatRequest.model_validate(body)
            question, history = conversation(chat.messages)
            check_question(question, service.settings)
        except ValidationError as exc:
            return error(400, f"Invalid request: {exc.errors()[0]['msg']}", "invalid_request_error")
        except InputRejected as exc:
            return error(400, str(exc), "invalid_request_error")
        reply = Completion(chat.model or service.settings.model_name, question, history)
        if chat.stream:
            usage = bool((chat.stream_options or {}).get("include_usage"))
            return StreamingResponse(
                reply.chunks(service, usage),
                media_type="text/event-stream",
                headers={"Cache-Control": "no-store", "X-Accel-Buffering": "no"},
            )
        try:
            return JSONResponse(reply.whole(answer_once(service, question, history)))
        except Busy:
            return error(503, BUSY, "server_error", "busy")
        except InputRejected as exc:
            return error(400, str(exc), "invalid_request_error")
        except RagError as exc:
            log.warning("openai door error: %s", exc)
            return error(503, user_message(exc), "server_error")


def conversation(messages: list[Message]) -> tuple[str, list[dict[str, str]]]:
    """The last user message and the user/assistant turns before it (system prompts do not steer the product)."""
    if not messages or messages[-1].role != "user":
        raise InputRejected("The last message must be the user's question.")
    turns = [{"role": m.role, "content": m.text} for m in messages[:-1] if m.role in ("user", "assistant")]
    return messages[-1].text, turns


class Completion:
    """One completion in OpenAI's shapes: a whole response or a stream of chunks."""

    def __init__(self, model: str, question: str, history: list[dict[str, str]]) -> None:
        self.model = model
        self.question = question
        self.history = history
        self.id = f"chatcmpl-{uuid.uuid4().hex}"
        self.created = int(time.time())

    def usage(self, answer: str) -> dict[str, int]:
        """Prompt and completion sizes, in words and punctuation marks."""
        prompt = len(PIECE.findall(self.question)) + sum(
            len(PIECE.findall(t["content"])) for t in self.history
        )
        completion = len(PIECE.findall(answer))
        return {"prompt_tokens": prompt, "completion_tokens": completion, "total_tokens": prompt + completion}

    def whole(self, answer: Answer) -> dict[str, Any]:
        """The non-streaming response; `sources`, `refused` and `answer_id` are this product's extra fields."""
        message = {"role": "assistant", "content": answer.answer}
        return {
            **self._head("chat.completion"),
            "choices": [{"index": 0, "message": message, "finish_reason": "stop", "logprobs": None}],
            "usage": self.usage(answer.answer),
            **extras(answer),
        }

    def chunks(self, service: Service, include_usage: bool) -> Iterator[str]:
        """Server-sent chunks: the role, the text as it comes, a last chunk with the sources, then [DONE]."""
        head = self._head("chat.completion.chunk")
        sent = ""
        try:
            yield _data({**head, "choices": [_delta({"role": "assistant", "content": ""})]})
            for event in answer_events(service, self.question, self.history):
                if event.final is None:
                    sent += event.token
                    yield _data({**head, "choices": [_delta({"content": event.token})]})
                    continue
                answer = event.final
                rest = answer.answer[len(sent) :] if answer.answer.startswith(sent) else ""
                if rest:
                    yield _data({**head, "choices": [_delta({"content": rest})]})
                yield _data({**head, "choices": [_delta({}, "stop")], **extras(answer)})
                if include_usage:
                    yield _data({**head, "choices": [], "usage": self.usage(answer.answer)})
        except Busy:
            yield _data({"error": {"message": BUSY, "type": "server_error", "code": "busy"}})
        except RagError as exc:
            log.warning("openai stream error: %s", exc)
            yield _data({"error": {"message": user_message(exc), "type": "server_error", "code": None}})
        except Exception:
            log.exception("openai stream failed")
            yield _data({"error": {"message": UNEXPECTED, "type": "server_error", "code": None}})
        yield "data: [DONE]\n\n"

    def _head(self, kind: str) -> dict[str, Any]:
        return {"id": self.id, "object": kind, "created": self.created, "model": self.model}


def extras(answer: Answer) -> dict[str, Any]:
    """This product's fields beside OpenAI's: the cited sources, whether it refused, and the id feedback uses."""
    body = answer.to_json()
    return {"sources": body["sources"], "refused": answer.refused, "answer_id": answer.answer_id}


def _delta(delta: dict[str, str], finish: str | None = None) -> dict[str, Any]:
    return {"index": 0, "delta": delta, "finish_reason": finish, "logprobs": None}


def _data(payload: dict[str, Any]) -> str:
    return f"data: {json.dumps(payload, ensure_ascii=False)}\n\n"
