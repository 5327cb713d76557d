"""The data the answer engine passes along: sources, sentences, answers and streamed events."""

from __future__ import annotations

import uuid
from dataclasses import asdict, dataclass, field
from typing import Any


@dataclass
class Source:
    """A numbered passage an answer can cite."""

    n: int
    title: str
    source: str
    chunk_id: str
    score: float
    text: str
    date: str = ""
    section: str = ""


@dataclass
class Answer:
    """The product's reply: text with [n] citations, whether it refused, and its sources."""

    answer: str
    refused: bool
    sources: list[Source] = field(default_factory=list)
    question: str = ""
    standalone_question: str = ""
    retrieved: list[Source] = field(default_factory=list)
    note: str = ""
    form: str = ""
    evidence: dict[str, float] = field(default_factory=dict)
    answer_id: str = field(default_factory=lambda: uuid.uuid4().hex)  # what feedback names

    def to_json(self) -> dict[str, Any]:
        """The public JSON shape of `python -m rag ask --json` and `POST /api/ask`."""
        keys = ("n", "title", "source", "chunk_id", "score", "text")
        return {
            "answer": self.answer,
            "refused": self.refused,
            "sources": [{k: v for k, v in asdict(s).items() if k in keys} for s in self.sources],
            "answer_id": self.answer_id,
        }


@dataclass(frozen=True)
class Sentence:
    """One sentence of a retrieved passage, scored against the question."""

    text: str
    passage: int
    position: int
    score: float
    start: int
    dense: float
    overlap: float
    item: bool = False  # an item of a list or a row of a table
    line: int = 0  # the line of its passage it is on: an item's sentences share one


@dataclass(frozen=True)
class Event:
    """A streamed piece of an answer: a token, or the final Answer."""

    token: str = ""
    final: Answer | None = None
