"""Wires the pieces together once per process: embeddings, index, retriever, LLM, assistant."""

from __future__ import annotations

import logging
from dataclasses import dataclass
from functools import cached_property

from langchain_core.embeddings import Embeddings
from langchain_core.language_models import BaseLanguageModel

from rag.answer import Assistant
from rag.config import Settings
from rag.errors import RetrievalUnavailable
from rag.llm import build_llm
from rag.retrieve import Retriever, build_retriever
from rag.store import BundledEmbeddings, Store

log = logging.getLogger(__name__)


@dataclass
class Runtime:
    """Lazily built, shared components; each is created at most once."""

    settings: Settings

    @cached_property
    def embeddings(self) -> Embeddings:
        """The bundled sentence-transformers model, loaded now so readiness means ready."""
        embeddings = BundledEmbeddings(self.settings)
        embeddings.load()
        return embeddings

    @cached_property
    def store(self) -> Store:
        """The Chroma collection."""
        return Store(self.settings, self.embeddings)

    @cached_property
    def retriever(self) -> Retriever:
        """The retriever named by RAG_RETRIEVAL, with its keyword index built once; never over an empty index."""
        if not self.store.count():
            raise RetrievalUnavailable("the index is empty: run `python -m rag ingest`")
        return build_retriever(self.settings, self.store, self.embeddings)

    @cached_property
    def llm(self) -> BaseLanguageModel | None:
        """The LLM backend named by RAG_LLM."""
        return build_llm(self.settings)

    def renewed(self) -> Runtime:
        """A runtime that reopens the index but keeps the models already loaded."""
        fresh = Runtime(self.settings)
        for name in ("embeddings", "llm"):
            if name in self.__dict__:
                fresh.__dict__[name] = self.__dict__[name]
        return fresh

    @cached_property
    def assistant(self) -> Assistant:
        """The answer chain over the above."""
        return Assistant(
            retriever=self.retriever, embeddings=self.embeddings, llm=self.llm, settings=self.settings
        )
