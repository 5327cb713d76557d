"""The answer engine: question → evidence → gate → answer form → verification."""

from rag.answer.chain import LLM_DOWN_NOTE, Assistant
from rag.answer.model import Answer, Event, Source
from rag.answer.question import NOT_FOUND, check_question

__all__ = ["LLM_DOWN_NOTE", "NOT_FOUND", "Answer", "Assistant", "Event", "Source", "check_question"]
