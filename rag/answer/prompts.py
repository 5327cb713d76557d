"""The prompt templates in rag/prompts."""

from __future__ import annotations

from pathlib import Path

from langchain_core.prompts import PromptTemplate

PROMPTS = Path(__file__).resolve().parent.parent / "prompts"


def load_prompt(name: str) -> PromptTemplate:
    """A prompt template from rag/prompts."""
    return PromptTemplate.from_template((PROMPTS / f"{name}.txt").read_text(encoding="utf-8"))
