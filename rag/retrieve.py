"""Retrieval: dense (Chroma), keyword (BM25) and their reciprocal-rank fusion."""

from __future__ import annotations

import math
import re
import unicodedata
from collections import Counter
from dataclasses import dataclass, replace
from typing import Any, Protocol

import numpy as np
from langchain_core.documents import Document
from langchain_core.embeddings import Embeddings

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


class BM25Index:
    """Okapi BM25 (rank_bm25's formula and IDF floor) over an inverted index.

    Each term keeps the ids of the chunks holding it and its precomputed weight there, so a query
    costs the length of its terms' posting lists, not a pass over every chunk.
    """

    def __init__(
        self, corpus: list[list[str]], k1: float = 1.5, b: float = 0.75, epsilon: float = 0.25
    ) -> None:
        self.size = len(corpus)
        lengths = np.array([len(doc) for doc in corpus], dtype=np.float64)
        average = float(lengths.mean()) if self.size else 0.0
        postings: dict[str, tuple[list[int], list[int]]] = {}
        for i, doc in enumerate(corpus):
            for term, count in Counter(doc).items():
                ids, counts = postings.setdefault(term, ([], []))
                ids.append(i)
                counts.append(count)
        idf = {
            t: math.log(self.size - len(ids) + 0.5) - math.log(len(ids) + 0.5)
            for t, (ids, _) in postings.items()
        }
        floor = epsilon * sum(idf.values()) / len(idf) if idf else 0.0
        self.postings: dict[str, tuple[np.ndarray, np.ndarray]] = {}
        for term, (ids, counts) in postings.items():
            doc_ids = np.array(ids, dtype=np.int64)
            tf = np.array(counts, dtype=np.float64)
            norm = k1 * (1 - b + b * lengths[doc_ids] / average)
            weight = (idf[term] if idf[term] >= 0 else floor) * tf * (k1 + 1) / (tf + norm)
            self.postings[term] = (doc_ids, weight)

    def top(self, tokens: list[str], k: int) -> list[tuple[int, float]]:
        """The k best (chunk index, score) pairs with a positive score."""
        scores = np.zeros(self.size)
        for token in tokens:
            if token in self.postings:
                doc_ids, weight = self.postings[token]
                scores[doc_ids] += weight
        hits = np.flatnonzero(scores > 0)
        if len(hits) > k:
            hits = hits[np.argpartition(scores[hits], -k)[-k:]]
        ranked = sorted(hits.tolist(), key=lambda i: (-scores[i], i))
        return [(i, float(scores[i])) for i in ranked]


class DenseRetriever:
    """Nearest neighbours of the query embedding in Chroma."""

    def __init__(self, store: Store, embeddings: Embeddings) -> None:
        self.store = store
        self.embeddings = embeddings

    def search(self, query: str, k: int) -> list[Passage]:
        """Top k by cosine similarity."""
        return self.search_vector(self.embeddings.embed_query(query), k)

    def search_vector(self, vector: list[float], k: int) -> list[Passage]:
        """Top k for an already embedded query."""
        return [_passage(doc, sim, sim) for doc, sim in self.store.dense_search(vector, k)]


class KeywordRetriever:
    """BM25 over every stored chunk, built once from the index and reused for every query."""

    def __init__(self, store: Store, embeddings: Embeddings) -> None:
        self.store = store
        self.embeddings = embeddings
        self.docs = store.all_chunks()
        self.index = BM25Index([tokenize(_keyword_text(doc)) for doc in self.docs])

    def search(self, query: str, k: int) -> list[Passage]:
        """Top k by BM25; similarity is still the cosine, so the relevance gate means the same thing."""
        return self.search_vector(query, self.embeddings.embed_query(query), k, {})

    def search_vector(
        self, query: str, vector: list[float], k: int, known: dict[str, float]
    ) -> list[Passage]:
        """Top k by BM25, with cosines taken from `known` where the caller has them."""
        top = self.index.top(tokenize(query), k)
        hits = [self.docs[i] for i, _ in top]
        sims = cosine_similarities(self.store, vector, hits, known)
        return [_passage(doc, sim, score) for doc, sim, (_, score) in zip(hits, sims, top)]


class HybridRetriever:
    """Dense and keyword results fused by reciprocal rank."""

    def __init__(self, dense: DenseRetriever, keyword: KeywordRetriever) -> None:
        self.dense = dense
        self.keyword = keyword

    def search(self, query: str, k: int) -> list[Passage]:
        """Top k of the fused ranking; each passage keeps its cosine similarity."""
        vector = self.dense.embeddings.embed_query(query)
        dense = self.dense.search_vector(vector, CANDIDATES)
        known = {p.chunk_id: p.similarity for p in dense}
        fused: dict[str, float] = {}
        by_id: dict[str, Passage] = {}
        for ranking in (dense, self.keyword.search_vector(query, vector, CANDIDATES, known)):
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


def cosine_similarities(
    store: Store, query_vector: list[float], docs: list[Document], known: dict[str, float]
) -> list[float]:
    """Cosine similarity of chunks to the query: from `known`, else computed by the index."""
    ids = [str(doc.metadata["chunk_id"]) for doc in docs]
    computed = store.similarities(query_vector, [i for i in ids if i not in known])
    return [known[i] if i in known else computed[i] for i in ids]


def _keyword_text(doc: Document) -> str:
    return f"{doc.metadata.get('title', '')} {doc.metadata.get('section', '')} {doc.page_content}"
