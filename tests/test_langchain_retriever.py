"""The index as a LangChain retriever: LangChain's own standard tests, for hybrid, dense and keyword search."""

from __future__ import annotations

from dataclasses import replace
from typing import Any

import pytest
from langchain_core.documents import Document
from langchain_core.prompts import ChatPromptTemplate
from langchain_core.runnables import RunnableLambda
from langchain_tests.integration_tests import RetrieversIntegrationTests

from rag.retrieve import IndexRetriever, build_search
from rag.runtime import Runtime


class HybridStandard(RetrieversIntegrationTests):
    """LangChain's retriever contract over the real index with the bundled embeddings."""

    mode = "hybrid"

    @pytest.fixture(autouse=True)
    def _index(self, corpus_runtime: Runtime) -> None:
        settings = replace(corpus_runtime.settings, retrieval=self.mode)
        self.search = build_search(
            settings, corpus_runtime.store, corpus_runtime.embeddings, corpus_runtime.keyword
        )

    @property
    def retriever_constructor(self) -> type[IndexRetriever]:
        return IndexRetriever

    @property
    def retriever_constructor_params(self) -> dict[str, Any]:
        return {"search": self.search, "k": 4}

    @property
    def retriever_query_example(self) -> str:
        return "When was the Kidal camp closed?"


class TestHybridRetriever(HybridStandard):
    mode = "hybrid"


class TestDenseRetriever(HybridStandard):
    mode = "dense"


class TestKeywordRetriever(HybridStandard):
    mode = "bm25"


def test_documents_carry_what_the_answer_engine_uses(corpus_runtime: Runtime) -> None:
    docs = corpus_runtime.retriever.invoke("When was the Kidal camp closed?", k=3)
    assert len(docs) == 3 and docs[0].id == docs[0].metadata["chunk_id"]
    assert {"source", "title", "section", "date", "position", "similarity", "score"} <= set(docs[0].metadata)
    assert any("06-withdrawal" in d.metadata["source"] for d in docs)


def test_usable_in_someone_elses_lcel_chain(corpus_runtime: Runtime) -> None:
    retriever = IndexRetriever(search=corpus_runtime.search, k=2)
    prompt = ChatPromptTemplate.from_template("Context:\n{context}\n\nQuestion: {question}")

    def joined(docs: list[Document]) -> str:
        return "\n\n".join(d.page_content for d in docs)

    def same(question: str) -> str:
        return question

    chain = {"context": retriever | RunnableLambda(joined), "question": RunnableLambda(same)} | prompt
    text = chain.invoke("Which resolution terminated the mandate?").to_string()
    assert "2690" in text and text.count("\n\n") >= 2
