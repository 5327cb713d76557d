"""Retrieval: dense (Chroma), keyword (BM25) and their reciprocal-rank fusion."""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass, replace
from typing import Any, Protocol

import numpy as np
from langchain_core.documents import Document
from langchain_core.embeddings import Embeddings
from rank_bm25 import BM25Okapi

from rag.config import Settings
from rag.store import Store

RRF_K = 60
CANDIDATES = 20
STOPWORDS = frozenset(
    "a an the of in on at to for from by with and or is are was were be been being what which who "
    "whom whose when where why how did do does has have had it its this that these those as into "
    "about than then there their they he she his her him i you your we our me my can could would "
    "should will shall may might".split()
)


@dataclass(frozen=True)
class Passage:
    """A retrieved chunk with its scores."""

    chunk_id: str
    text: str
    metadata: dict[str, Any]
    similarity: float
    score: float

    @property
    def source(self) -> str:
        """The file the passage comes from."""
        return str(self.metadata.get("source", ""))


def fold(text: str) -> str:
    """Lowercase without accents, so "Burkinabè" and "Burkinabe" are one word."""
    decomposed = unicodedata.normalize("NFKD", text.lower())
    return "".join(c for c in decomposed if not unicodedata.combining(c))


def tokenize(text: str) -> list[str]:
    """Folded word tokens without stopwords; thousands separators dropped, plurals folded."""
    words = re.findall(r"\d[\d,.]*\d|\d|[^\W\d_]+", fold(text))
    out = []
    for word in words:
        word = word.replace(",", "") if word[0].isdigit() else word
        if word in STOPWORDS or (len(word) == 1 and not word.isdigit()):
            continue
        out.append(word[:-1] if len(word) > 3 and word.endswith("s") and not word.endswith("ss") else word)
    return out


class Retriever(Protocol):
    """Anything that returns the passages most relevant to a query, best first."""

    def search(self, query: str, k: int) -> list[Passage]: ...


def _passage(doc: Document, similarity: float, score: float) -> Passage:
    chunk_id = doc.id or str(doc.metadata.get("chunk_id", ""))
    metadata = {k: v for k, v in doc.metadata.items() if k != "chunk_id"}
    return Passage(chunk_id, doc.page_content, metadata, similarity, score)


class DenseRetriever:
    """Nearest neighbours of the query embedding in Chroma."""

    def __init__(self, store: Store, embeddings: Embeddings) -> None:
        self.store = store
        self.embeddings = embeddings

    def search(self, query: str, k: int) -> list[Passage]:
        """Top k by cosine similarity."""
        vector = self.embeddings.embed_query(query)
        return [_passage(doc, sim, sim) for doc, sim in self.store.dense_search(vector, k)]


class KeywordRetriever:
    """BM25 over every stored chunk, built once from the index and reused for every query."""

    def __init__(self, store: Store, embeddings: Embeddings) -> None:
        self.store = store
        self.embeddings = embeddings
        self.docs = store.all_chunks()
        corpus = [tokenize(_keyword_text(doc)) for doc in self.docs]
        self.bm25 = BM25Okapi(corpus) if self.docs else None

    def search(self, query: str, k: int) -> list[Passage]:
        """Top k by BM25; similarity is still the cosine, so the relevance gate means the same thing."""
        tokens = tokenize(query)
        if self.bm25 is None or not tokens:
            return []
        scores = self.bm25.get_scores(tokens)
        top = [int(i) for i in np.argsort(scores)[::-1][:k] if scores[i] > 0]
        hits = [self.docs[i] for i in top]
        sims = cosine_similarities(self.store, self.embeddings.embed_query(query), hits)
        return [_passage(doc, sims[j], float(scores[i])) for j, (i, doc) in enumerate(zip(top, hits))]


class HybridRetriever:
    """Dense and keyword results fused by reciprocal rank."""

    def __init__(self, dense: DenseRetriever, keyword: KeywordRetriever) -> None:
        self.dense = dense
        self.keyword = keyword

    def search(self, query: str, k: int) -> list[Passage]:
        """Top k of the fused ranking; each passage keeps its cosine similarity."""
        fused: dict[str, float] = {}
        by_id: dict[str, Passage] = {}
        for ranking in (self.dense.search(query, CANDIDATES), self.keyword.search(query, CANDIDATES)):
            for rank, passage in enumerate(ranking):
                fused[passage.chunk_id] = fused.get(passage.chunk_id, 0.0) + 1.0 / (RRF_K + rank + 1)
                by_id.setdefault(passage.chunk_id, passage)
        best = sorted(fused, key=fused.__getitem__, reverse=True)[:k]
        return [replace(by_id[i], score=fused[i]) for i in best]


def build_retriever(settings: Settings, store: Store, embeddings: Embeddings) -> Retriever:
    """The retriever named by RAG_RETRIEVAL."""
    if settings.retrieval == "dense":
        return DenseRetriever(store, embeddings)
    keyword = KeywordRetriever(store, embeddings)
    if settings.retrieval == "bm25":
        return keyword
    return HybridRetriever(DenseRetriever(store, embeddings), keyword)


def cosine_similarities(store: Store, query_vector: list[float], docs: list[Document]) -> list[float]:
    """Cosine similarity of stored chunk vectors to the query (vectors are normalised)."""
    vectors = store.embeddings_of([str(doc.metadata["chunk_id"]) for doc in docs])
    query = np.asarray(query_vector)
    return [float(np.dot(query, vectors[str(doc.metadata["chunk_id"])])) for doc in docs]


def _keyword_text(doc: Document) -> str:
    return f"{doc.metadata.get('title', '')} {doc.metadata.get('section', '')} {doc.page_content}"
