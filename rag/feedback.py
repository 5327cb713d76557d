"""Thumbs up and down from every door (chat page, API, widget) in one JSON-lines file, with what they rate."""

from __future__ import annotations

import json
import threading
import time
from collections import OrderedDict
from pathlib import Path
from typing import Any

from rag.answer import Answer
from rag.errors import InputRejected

RATINGS = ("up", "down")
RECENT = 10_000  # answers a process keeps for later feedback: about a day of a busy replica, ~20 MB at most
MAX_COMMENT = 1000


class UnknownAnswer(InputRejected):
    """Feedback names an answer this server did not give, or gave too long ago."""


class Feedback:
    """The feedback store: `feedback.jsonl` under RAG_DATA_DIR, and the recent answers it can rate by id."""

    def __init__(self, path: Path, recent: int = RECENT) -> None:
        self.path = path
        self.recent = recent
        self.answers: OrderedDict[str, dict[str, Any]] = OrderedDict()
        self.lock = threading.Lock()

    def remember(self, answer: Answer) -> None:
        """Keep what an answer said, so feedback on its `answer_id` can be stored with it."""
        entry = {
            "question": answer.question,
            "answer": answer.answer,
            "sources": [{"n": s.n, "title": s.title, "source": s.source} for s in answer.sources],
        }
        with self.lock:
            self.answers[answer.answer_id] = entry
            while len(self.answers) > self.recent:
                self.answers.popitem(last=False)

    def rate(self, answer_id: str, rating: str, comment: str = "", door: str = "api") -> dict[str, Any]:
        """Store a rating of a remembered answer; InputRejected for a bad rating or an unknown id."""
        with self.lock:
            rated = self.answers.get(answer_id)
        if rated is None:
            raise UnknownAnswer("Unknown answer_id: feedback is taken for this server's recent answers.")
        return self.add(rating=rating, door=door, answer_id=answer_id, comment=comment, **rated)

    def add(
        self,
        *,
        rating: str,
        question: str,
        answer: str,
        sources: list[dict[str, Any]],
        door: str,
        answer_id: str = "",
        comment: str = "",
    ) -> dict[str, Any]:
        """Append one entry; returns it."""
        if rating not in RATINGS:
            raise InputRejected("rating must be 'up' or 'down'.")
        if len(comment) > MAX_COMMENT:
            raise InputRejected(f"The comment is too long; the limit is {MAX_COMMENT} characters.")
        entry = {
            "time": time.strftime("%Y-%m-%dT%H:%M:%S%z"),
            "door": door,
            "answer_id": answer_id,
            "rating": rating,
            "question": question,
            "answer": answer,
            "sources": sources,
            "comment": comment,
        }
        self.path.parent.mkdir(parents=True, exist_ok=True)
        with self.lock, self.path.open("a", encoding="utf-8") as fh:
            fh.write(json.dumps(entry, ensure_ascii=False) + "\n")
        return entry
