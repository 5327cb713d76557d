"""Wires the pieces together once per process: embeddings, index, retriever, LLM, assistant."""

from __future__ import annotations

import logging
from functools import cached_property
from typing import Literal

from langchain_core.embeddings import Embeddings
from langchain_core.language_models import BaseLanguageModel
from langchain_core.retrievers import BaseRetriever

from rag.answer import Assistant
from rag.answer.vectors import SentenceVectors
from rag.config import Settings
from rag.errors import RetrievalUnavailable
from rag.llm import build_llm
from rag.policy import DEFAULT_POLICY, Policy
from rag.retrieve import IndexRetriever, Keyword, KeywordSearch, LateKeywordSearch, Search, build_search
from rag.store import BundledEmbeddings, Store

log = logging.getLogger(__name__)


class Runtime:
    """Lazily built, shared components; each is created at most once, unless passed in ready-made."""

    def __init__(
        self,
        settings: Settings,
        *,
        embeddings: Embeddings | None = None,
        llm: BaseLanguageModel | None | Literal["configured"] = "configured",
        retriever: BaseRetriever | None = None,
        late_keyword: bool = False,
        vectors: SentenceVectors | None = None,
    ) -> None:
        self.settings = settings
        # A server builds its keyword index in the background (hybrid search), so its start does not grow with the
        # index; the CLI, evaluations and tests build it before the first answer.
        self.late_keyword = late_keyword and settings.retrieval == "hybrid"
        # Ready-made parts take the place of the cached properties below (a property is computed only if absent).
        if embeddings is not None:
            self.__dict__["embeddings"] = embeddings
        if retriever is not None:
            self.__dict__["retriever"] = retriever
        if not isinstance(llm, str):
            self.__dict__["llm"] = llm
        if vectors is not None:
            self.__dict__["vectors"] = vectors

    @cached_property
    def embeddings(self) -> Embeddings:
        """The bundled sentence-transformers model, loaded now so readiness means ready."""
        embeddings = BundledEmbeddings(self.settings)
        embeddings.load()
        return embeddings

    @cached_property
    def vectors(self) -> SentenceVectors:
        """Sentence embeddings cached for as long as the model is loaded: they outlive an index that is reopened."""
        return SentenceVectors(self.embeddings)

    @cached_property
    def store(self) -> Store:
        """The Chroma collection."""
        return Store(self.settings, self.embeddings)

    @cached_property
    def keyword(self) -> Keyword:
        """The keyword index: BM25 search and the corpus vocabulary; never over an empty index or another model's."""
        if not self.store.count():
            raise RetrievalUnavailable("the index is empty: run `python -m rag ingest`")
        self.store.check_model()
        if self.late_keyword:
            return LateKeywordSearch(lambda: KeywordSearch(self.store, self.embeddings))
        return KeywordSearch(self.store, self.embeddings)

    @cached_property
    def search(self) -> Search:
        """The search named by RAG_RETRIEVAL."""
        return build_search(self.settings, self.store, self.embeddings, self.keyword)

    @cached_property
    def retriever(self) -> IndexRetriever:
        """That search as the LangChain retriever the answer chain consumes."""
        return IndexRetriever(search=self.search, k=self.settings.rerank_candidates)

    @cached_property
    def llm(self) -> BaseLanguageModel | None:
        """The LLM backend named by RAG_LLM."""
        return build_llm(self.settings)

    def renewed(self) -> Runtime:
        """A runtime that reopens the index but keeps the models already loaded."""
        return Runtime(
            self.settings,
            embeddings=self.__dict__.get("embeddings"),
            llm=self.__dict__.get("llm", "configured"),
            late_keyword=self.late_keyword,
            vectors=self.__dict__.get("vectors"),
        )

    @cached_property
    def assistant(self) -> Assistant:
        """The answer chain over the above."""
        return self.build_assistant()

    def build_assistant(
        self,
        *,
        llm: BaseLanguageModel | None | Literal["configured"] = "configured",
        settings: Settings | None = None,
        policy: Policy = DEFAULT_POLICY,
    ) -> Assistant:
        """An answer chain over this runtime's index and models, with another LLM, settings or policy if given."""
        return Assistant(
            retriever=self.retriever,
            embeddings=self.embeddings,
            llm=self.llm if llm == "configured" else llm,
            settings=settings or self.settings,
            vocabulary=self.keyword.vocabulary,
            following=self.keyword.following,
            policy=policy,
            vectors=self.vectors,
        )
