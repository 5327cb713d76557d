"""Retrieval: dense (Chroma), keyword (BM25) and their reciprocal-rank fusion."""

from __future__ import annotations

import logging
import math
import re
import threading
import time
from collections import Counter
from collections.abc import Callable, Iterable
from dataclasses import dataclass, replace
from itertools import zip_longest
from pathlib import Path
from typing import Any, Protocol, runtime_checkable

import numpy as np
from langchain_core.callbacks import CallbackManagerForRetrieverRun
from langchain_core.documents import Document
from langchain_core.embeddings import Embeddings
from langchain_core.retrievers import BaseRetriever
from pydantic import ConfigDict

from rag.config import Settings
from rag.policy import DEFAULT_POLICY, Policy
from rag.store import Store
from rag.text import ADDRESS, LIST_ITEM, STOPWORDS, abbreviations, fold, near_spelling, stem, tokenize, words

log = logging.getLogger(__name__)

RRF_K = 60
LABEL = re.compile(r"^\s*(?:[-*]\s*)?\**([A-Za-z][\w ]{0,24}?)\**:\s")
CANDIDATES = 20


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


@runtime_checkable
class Search(Protocol):
    """Anything that returns the passages most relevant to a query, best first."""

    def search(self, query: str, k: int) -> list[Passage]: ...


class IndexRetriever(BaseRetriever):
    """The index's search (hybrid, dense or keyword) as a LangChain retriever, for this product's chain and any other.

    Each Document carries the chunk's metadata (source, title, section, date, position) plus `chunk_id`,
    `similarity` (cosine to the query) and `score` (the ranking's own score).
    """

    model_config = ConfigDict(arbitrary_types_allowed=True)

    search: Search
    k: int = 4

    def _get_relevant_documents(
        self, query: str, *, run_manager: CallbackManagerForRetrieverRun, k: int | None = None
    ) -> list[Document]:
        return [to_document(p) for p in self.search.search(query, k or self.k)]

    @classmethod
    def open(cls, settings: Settings | None = None, k: int = 4) -> IndexRetriever:
        """The retriever over the index that RAG_* settings name (the bundled embeddings load here)."""
        from rag.runtime import Runtime

        return cls(search=Runtime(settings or Settings.from_env()).search, k=k)


def to_document(passage: Passage) -> Document:
    """A passage as a LangChain Document, its scores in the metadata."""
    metadata = {
        **passage.metadata,
        "chunk_id": passage.chunk_id,
        "similarity": passage.similarity,
        "score": passage.score,
    }
    return Document(page_content=passage.text, metadata=metadata, id=passage.chunk_id)


def from_document(doc: Document) -> Passage:
    """The passage a Document from `IndexRetriever` stands for."""
    metadata = {k: v for k, v in doc.metadata.items() if k not in ("chunk_id", "similarity", "score")}
    chunk_id = doc.id or str(doc.metadata.get("chunk_id", ""))
    similarity = float(doc.metadata.get("similarity", 0.0))
    return Passage(
        chunk_id, doc.page_content, metadata, similarity, float(doc.metadata.get("score", similarity))
    )


def _passage(doc: Document, similarity: float, score: float) -> Passage:
    chunk_id = doc.id or str(doc.metadata.get("chunk_id", ""))
    metadata = {k: v for k, v in doc.metadata.items() if k != "chunk_id"}
    return Passage(chunk_id, doc.page_content, metadata, similarity, score)


class Vocabulary:
    """The corpus's tokens and their document frequencies: what is rare, what is generic, what is a typo."""

    def __init__(
        self, frequencies: dict[str, int], size: int, boilerplate: frozenset[str] = frozenset()
    ) -> None:
        self.frequencies = frequencies
        self.size = max(size, 1)
        self.boilerplate = boilerplate
        # "this <noun>" phrases most documents use: a document speaking of itself.
        self.self_references: frozenset[str] = frozenset()
        self.words: frozenset[str] = frozenset()  # real words of the language, never read as typos
        # The corpus's own words, folded but not stemmed: read from its texts on first need, since only a
        # translated question asks (a pass over every chunk at start-up cost 4.7 s at 100,000 chunks).
        self._texts: Callable[[], Iterable[str]] = tuple
        self._spellings: frozenset[str] | None = None
        self._surfaces: dict[str, str] | None = None  # a stem's first spelling in the corpus, alphabetically
        self._known = list(frequencies)
        self._aliases: dict[str, str] = {}
        self._long_forms: dict[str, str] = {}

    @property
    def aliases(self) -> dict[str, str]:
        """The corpus's abbreviations, each with its long form."""
        return self._aliases

    @aliases.setter
    def aliases(self, found: dict[str, str]) -> None:
        self._aliases = found
        self._long_forms = {f" {' '.join(words(long))} ": short for short, long in found.items()}

    def aliases_in(self, text: str) -> str:
        """The other name of each abbreviation or long form the text uses: "WHO" for "World Health Organization"."""
        if not self._aliases:
            return ""
        shorts = sorted({w for w in re.findall(r"\w+", text) if w in self._aliases})
        spaced = f" {' '.join(words(text))} "
        longs = [short for long, short in self._long_forms.items() if long in spaced and short not in shorts]
        return " ".join([self._aliases[s] for s in shorts] + longs)

    def adopt(self, other: Vocabulary) -> None:
        """Become the other vocabulary, so every holder of this one sees it (a late keyword index fills it in)."""
        self.frequencies, self.size = other.frequencies, other.size
        self.boilerplate, self.words, self._known = other.boilerplate, other.words, other._known
        self._texts, self._spellings, self._surfaces = other._texts, other._spellings, None
        self.self_references, self.aliases = other.self_references, other.aliases

    def is_boilerplate(self, sentence: str) -> bool:
        """A line under a label that most documents repeat ("Sources: …"): about the document, not its subject."""
        label = line_label(sentence)
        return bool(label) and label in self.boilerplate

    def is_self_reference(self, sentence: str) -> bool:
        """The sentence speaks of its document with a "this <noun>" phrase that most documents use."""
        return any(phrase in self.self_references for phrase in _demonstratives(sentence))

    def idf(self, token: str) -> float:
        """Inverse document frequency; an unknown token weighs as much as the rarest."""
        return math.log(1 + self.size / (1 + self.frequencies.get(token, 0)))

    def share(self, token: str) -> float:
        """The share of chunks holding the token."""
        return self.frequencies.get(token, 0) / self.size

    def spell_from(self, texts: Callable[[], Iterable[str]]) -> None:
        """Where `spells` reads the corpus's words, when first asked."""
        self._texts, self._spellings = texts, None

    def spells(self, word: str) -> bool:
        """The corpus writes the word as it is, not only a word of its stem ("OTAN" is no "otani")."""
        return fold(word) in self._spelled()

    def _spelled(self) -> frozenset[str]:
        if self._spellings is None:  # web addresses are no prose: "otan" of a link is no name the corpus uses
            self._spellings = frozenset(w for text in self._texts() for w in words(ADDRESS.sub(" ", text)))
        return self._spellings

    def spelling_near(self, word: str, min_ratio: float) -> str | None:
        """The word as the corpus writes it a typo away ("alger": "algiers", by their stems), or None."""
        token = stem(fold(word))
        near = self.correct(token, min_ratio)
        if near == token or near not in self.frequencies:
            return None
        if self._surfaces is None:
            surfaces: dict[str, str] = {}
            for spelled in sorted(self._spelled()):
                surfaces.setdefault(stem(spelled), spelled)
            self._surfaces = surfaces
        return self._surfaces.get(near)

    def names_something(self, word: str) -> bool:
        """The corpus uses the word and it is no common word of the language ("Accra", not "Well" or "Hi")."""
        folded = fold(word)
        return stem(folded) in self.frequencies and folded not in self.words

    def correct(self, token: str, min_ratio: float) -> str:
        """The token, or the closest corpus token when it is unknown and one typo away ("goverment")."""
        if token in self.frequencies or token in self.words or len(token) < 4 or token.isdigit():
            return token
        return near_spelling(token, self._known, min_ratio) or token


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
        self.vocabulary = Vocabulary({t: len(ids) for t, (ids, _) in postings.items()}, self.size)
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


class DenseSearch:
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


class KeywordSearch:
    """BM25 over every stored chunk, built once from the index and reused for every query."""

    def __init__(self, store: Store, embeddings: Embeddings, policy: Policy = DEFAULT_POLICY) -> None:
        self.store = store
        self.embeddings = embeddings
        self.policy = policy
        self.docs = store.all_chunks()
        self.index = BM25Index([tokenize(_keyword_text(doc)) for doc in self.docs])
        self.index.vocabulary.boilerplate = boilerplate_labels(self.docs, policy.boilerplate_share)
        self.index.vocabulary.self_references = self_references(self.docs, policy.boilerplate_share)
        self.index.vocabulary.words = model_words(store.settings.embed_model_path)
        self.index.vocabulary.aliases = abbreviations([doc.page_content for doc in self.docs])
        self.index.vocabulary.spell_from(lambda: (doc.page_content for doc in self.docs))
        self._by_position = {(d.metadata.get("source"), d.metadata.get("position")): d for d in self.docs}

    @property
    def vocabulary(self) -> Vocabulary:
        """The corpus vocabulary this index was built from."""
        return self.index.vocabulary

    def wait(self, timeout: float | None = None) -> bool:
        """Built already: True."""
        return True

    def following(self, passage: Passage) -> Passage:
        """The passage with the chunk after it in its section appended (its overlap once): an account goes on.

        A list goes on to its last item, one chunk after another. A new section is a new subject, under a heading
        the passage does not carry: the account stops there.
        """
        position, source = passage.metadata.get("position"), passage.metadata.get("source")
        if position is None:
            return passage
        section = passage.metadata.get("section")
        joined, in_list = passage.text, False
        # A list goes on to its end: past the next chunk, chunks are read while they go on with its items.
        for step in range(1, self.policy.list_read_on + 1):
            after = self._by_position.get((source, position + step))
            if after is None or after.metadata.get("section") != section:
                break
            text = after.page_content
            starts_item = LIST_ITEM.match(text) is not None
            if step > 1 and not (in_list and starts_item):
                break
            in_list = starts_item
            shared = next((n for n in range(min(len(text), 200), 0, -1) if joined.endswith(text[:n])), 0)
            joined = f"{joined}{text[shared:]}" if shared else f"{joined}\n{text}"
        return replace(passage, text=joined)

    def search(self, query: str, k: int) -> list[Passage]:
        """Top k by BM25; similarity is still the cosine, so the relevance gate means the same thing."""
        return self.search_vector(query, self.embeddings.embed_query(query), k, {})

    def search_vector(
        self, query: str, vector: list[float], k: int, known: dict[str, float]
    ) -> list[Passage]:
        """Top k by BM25, with cosines taken from `known` where the caller has them."""
        vocabulary = self.index.vocabulary
        # "World Health Organization" also finds the chunks that call it "WHO", and the other way round.
        tokens = tokenize(f"{query} {vocabulary.aliases_in(query)}")
        top = self.index.top([vocabulary.correct(t, self.policy.typo_min_ratio) for t in tokens], k)
        hits = [self.docs[i] for i, _ in top]
        sims = cosine_similarities(self.store, vector, hits, known)
        # A chunk an ingest on another host has just removed is skipped until this index is rebuilt.
        return [_passage(doc, sim, score) for doc, sim, (_, score) in zip(hits, sims, top) if sim is not None]


class LateKeywordSearch:
    """A keyword search built in a background thread, so that readiness does not wait for it.

    Cold start then stays flat as the index grows. Until it is built it finds nothing (hybrid search is dense
    only), reads no passage on, and its vocabulary is empty (every word weighs the same); then it fills in.
    """

    def __init__(self, build: Callable[[], KeywordSearch]) -> None:
        self.vocabulary = Vocabulary({}, 0)
        self.done = threading.Event()  # built, or failed
        self._search: KeywordSearch | None = None
        threading.Thread(target=self._build, args=(build,), daemon=True, name="keyword-index").start()

    def _build(self, build: Callable[[], KeywordSearch]) -> None:
        started = time.perf_counter()
        try:
            search = build()
            self.vocabulary.adopt(search.vocabulary)
            self._search = search
            seconds = time.perf_counter() - started
            log.info("keyword index of %d chunks built in %.1f s", len(search.docs), seconds)
        except Exception:  # the dense half keeps answering; the log says why the keyword half is missing
            log.exception("the keyword index could not be built; search stays dense only")
        finally:
            self.done.set()

    def wait(self, timeout: float | None = None) -> bool:
        """Wait until the index is built; False if it is not by the timeout, or its build failed."""
        return self.done.wait(timeout) and self._search is not None

    def following(self, passage: Passage) -> Passage:
        """As KeywordSearch.following, once built."""
        return self._search.following(passage) if self._search else passage

    def search(self, query: str, k: int) -> list[Passage]:
        """As KeywordSearch.search, once built."""
        return self._search.search(query, k) if self._search else []

    def search_vector(
        self, query: str, vector: list[float], k: int, known: dict[str, float]
    ) -> list[Passage]:
        """As KeywordSearch.search_vector, once built."""
        return self._search.search_vector(query, vector, k, known) if self._search else []


Keyword = KeywordSearch | LateKeywordSearch


class HybridSearch:
    """Dense and keyword results fused by reciprocal rank, each one's best few always kept."""

    def __init__(self, dense: DenseSearch, keyword: Keyword, policy: Policy = DEFAULT_POLICY) -> None:
        self.dense = dense
        self.keyword = keyword
        self.policy = policy

    def search(self, query: str, k: int) -> list[Passage]:
        """Top k of the fused ranking; each passage keeps its cosine similarity."""
        vector = self.dense.embeddings.embed_query(query)
        dense = self.dense.search_vector(vector, CANDIDATES)
        known = {p.chunk_id: p.similarity for p in dense}
        rankings = (dense, self.keyword.search_vector(query, vector, CANDIDATES, known))
        fused: dict[str, float] = {}
        by_id: dict[str, Passage] = {}
        for ranking in rankings:
            for rank, passage in enumerate(ranking):
                fused[passage.chunk_id] = fused.get(passage.chunk_id, 0.0) + 1.0 / (RRF_K + rank + 1)
                by_id.setdefault(passage.chunk_id, passage)
        # A chunk of boilerplate lines alone ("Sources: …") is never quoted: it would only take a place.
        vocabulary = self.keyword.vocabulary
        kept = [
            i
            for i in sorted(fused, key=fused.__getitem__, reverse=True)
            if not _only_boilerplate(by_id[i].text, vocabulary)
        ]
        # Fusion ranks a chunk found by both searches above one only keyword search finds, even first: in a small
        # corpus most chunks are found by both. Each search's own best few stay among the k.
        allowed = set(kept)
        tops = [
            [p.chunk_id for p in r if p.chunk_id in allowed][: self.policy.kept_per_search] for r in rankings
        ]
        chosen = list(dict.fromkeys(i for pair in zip_longest(*tops) for i in pair if i))[:k]
        chosen += [i for i in kept if i not in chosen][: k - len(chosen)]
        picked = set(chosen)
        return [replace(by_id[i], score=fused[i]) for i in kept if i in picked]


def _only_boilerplate(text: str, vocabulary: Vocabulary) -> bool:
    lines = [line for line in text.splitlines() if line.strip()]
    return bool(lines) and all(vocabulary.is_boilerplate(line) for line in lines)


def build_search(
    settings: Settings,
    store: Store,
    embeddings: Embeddings,
    keyword: Keyword,
    policy: Policy = DEFAULT_POLICY,
) -> Search:
    """The search named by RAG_RETRIEVAL, over an already built keyword index."""
    if settings.retrieval == "dense":
        return DenseSearch(store, embeddings)
    if settings.retrieval == "bm25":
        return keyword
    return HybridSearch(DenseSearch(store, embeddings), keyword, policy)


def cosine_similarities(
    store: Store, query_vector: list[float], docs: list[Document], known: dict[str, float]
) -> list[float | None]:
    """Cosine similarity of chunks to the query: from `known`, else computed by the index (None: gone from it)."""
    ids = [str(doc.metadata["chunk_id"]) for doc in docs]
    computed = store.similarities(query_vector, [i for i in ids if i not in known])
    return [known[i] if i in known else computed.get(i) for i in ids]


def model_words(folder: str) -> frozenset[str]:
    """The whole words of the embedding model's WordPiece vocabulary ("even", "stand"): real words, not typos."""
    path = Path(folder) / "vocab.txt"
    if not path.is_file():
        return frozenset()
    lines = path.read_text(encoding="utf-8").splitlines()
    return frozenset(w for w in lines if len(w) >= 4 and w.isalpha() and w.islower())


def line_label(line: str) -> str:
    """The label a line starts with ("Sources" in "Sources: …"), folded; empty when it has none."""
    match = LABEL.match(line)
    return match.group(1).strip().lower() if match else ""


def boilerplate_labels(docs: list[Document], share: float) -> frozenset[str]:
    """Line labels found in at least `share` of the documents (and three of them): the corpus's boilerplate."""
    return _in_most_documents(docs, share, lambda text: [line_label(line) for line in text.splitlines()])


def self_references(docs: list[Document], share: float) -> frozenset[str]:
    """ "this <noun>" phrases in at least `share` of the documents (and three): how they name themselves."""
    return _in_most_documents(docs, share, _demonstratives)


def _in_most_documents(
    docs: list[Document], share: float, found: Callable[[str], list[str]]
) -> frozenset[str]:
    """What `found` finds in at least `share` of the documents, and in three at least."""
    seen: dict[str, set[str]] = {}
    for doc in docs:
        for key in found(doc.page_content):
            if key:
                seen.setdefault(key, set()).add(str(doc.metadata.get("source", "")))
    documents = len({str(doc.metadata.get("source", "")) for doc in docs})
    return frozenset(k for k, v in seen.items() if len(v) >= max(3, share * documents))


def _demonstratives(text: str) -> list[str]:
    found = (w.lower() for w in re.findall(r"\bthis\s+([a-z]+)", text, re.I))
    return [f"this {w}" for w in found if w not in STOPWORDS]


def _keyword_text(doc: Document) -> str:
    return f"{doc.metadata.get('title', '')} {doc.metadata.get('section', '')} {doc.page_content}"
