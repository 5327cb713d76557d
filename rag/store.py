"""The Chroma index: one collection of chunks, in-process or on a Chroma server."""

from __future__ import annotations

import functools
import hashlib
import logging
import threading
import time
from collections import OrderedDict, defaultdict
from collections.abc import Iterator
from dataclasses import dataclass
from functools import cached_property
from pathlib import Path
from typing import Any, TypeVar

import chromadb
import numpy as np
from chromadb.api.shared_system_client import SharedSystemClient
from chromadb.config import Settings as ChromaSettings
from langchain_chroma import Chroma
from langchain_core.documents import Document
from langchain_core.embeddings import Embeddings

from rag.config import Settings
from rag.errors import ConfigError, RetrievalUnavailable

log = logging.getLogger(__name__)
T = TypeVar("T")

WRITE_BATCH = 1_000
INDEX_FILE = "chroma.sqlite3"
# Touched by every ingest that changes the index, so running servers know to reopen it.
GENERATION_FILE = "generation"
# On a Chroma server the same marker is the metadata of a small collection beside the index.
MARKER_SUFFIX = "-changes"
READ_PAGE = 5_000
QUERY_CACHE_SIZE = 256
# What makes an embedding model itself: weights and configuration (not its README).
MODEL_FILES = (".safetensors", ".bin", ".json", ".txt", ".model")


@dataclass(frozen=True)
class Chunk:
    """One piece of a document, ready to embed and store."""

    id: str
    text: str
    embed_text: str
    metadata: dict[str, Any]


@dataclass(frozen=True)
class FileState:
    """What the index holds for one source file."""

    ids: frozenset[str]
    file_hashes: frozenset[str]
    expected_chunks: int

    def is_complete(self, file_hash: str) -> bool:
        """True when every chunk of this exact file version is stored, and nothing else."""
        return self.file_hashes == {file_hash} and len(self.ids) == self.expected_chunks


def batched(items: list[T]) -> Iterator[list[T]]:
    """Consecutive slices of at most WRITE_BATCH items (Chroma caps the size of one call)."""
    for start in range(0, len(items), WRITE_BATCH):
        yield items[start : start + WRITE_BATCH]


@functools.lru_cache(maxsize=8)
def model_identity(folder: str) -> str:
    """A short hash of an embedding model's weights and configuration: the same for a copy, new for another model."""
    digest = hashlib.sha256()
    root = Path(folder)
    for path in sorted(p for p in root.rglob("*") if p.is_file() and p.suffix in MODEL_FILES):
        digest.update(path.relative_to(root).as_posix().encode())
        with path.open("rb") as fh:
            while block := fh.read(1 << 20):
                digest.update(block)
    return digest.hexdigest()[:16]


def load_embeddings(settings: Settings) -> Embeddings:
    """The sentence-transformers model, loaded from its bundled folder (no download)."""
    from langchain_huggingface import HuggingFaceEmbeddings

    return HuggingFaceEmbeddings(
        model_name=settings.embed_model_path,
        model_kwargs={"device": "cpu"},
        # sentence-transformers' default batch of 32: 64 measured 11% slower on a 2-core CPU.
        encode_kwargs={"normalize_embeddings": True},
    )


class BundledEmbeddings(Embeddings):
    """The bundled model, loaded on first use, remembering recent query vectors.

    Loading costs seconds (torch), so an unchanged re-ingest never pays for it; one question is
    embedded once although dense search, keyword scoring and sentence ranking all ask for it.
    """

    def __init__(self, settings: Settings) -> None:
        self.settings = settings
        self._model: Embeddings | None = None
        self.load_seconds = 0.0
        self._queries: OrderedDict[str, list[float]] = OrderedDict()
        self._lock = threading.Lock()

    def load(self) -> Embeddings:
        """The underlying model, loaded once."""
        with self._lock:
            if self._model is None:
                started = time.perf_counter()
                self._model = load_embeddings(self.settings)
                self.load_seconds = time.perf_counter() - started
            return self._model

    def forget_queries(self) -> None:
        """Empty the query cache (benchmarks time cold queries)."""
        with self._lock:
            self._queries.clear()

    def embed_documents(self, texts: list[str]) -> list[list[float]]:
        """Vectors of passages."""
        return self.load().embed_documents(texts)

    def embed_query(self, text: str) -> list[float]:
        """Vector of a query, from the cache when it was just asked."""
        with self._lock:
            if text in self._queries:
                self._queries.move_to_end(text)
                return self._queries[text]
        vector = self.load().embed_query(text)
        with self._lock:
            self._queries[text] = vector
            if len(self._queries) > QUERY_CACHE_SIZE:
                self._queries.popitem(last=False)
        return vector


def make_client(settings: Settings) -> chromadb.ClientAPI:
    """A persistent in-process client, or an HTTP client when RAG_CHROMA_HOST is set."""
    if settings.chroma_host:
        auth: dict[str, Any] = {}
        if settings.chroma_token:
            auth = {
                "chroma_client_auth_provider": "chromadb.auth.token_authn.TokenAuthClientProvider",
                "chroma_client_auth_credentials": settings.chroma_token,
            }
        return chromadb.HttpClient(
            host=settings.chroma_host,
            port=settings.chroma_port,
            settings=ChromaSettings(anonymized_telemetry=False, **auth),
        )
    settings.index_dir.mkdir(parents=True, exist_ok=True)
    path = str(settings.index_dir)
    try:
        return chromadb.PersistentClient(path=path, settings=ChromaSettings(anonymized_telemetry=False))
    except Exception:
        # chromadb caches a path's reader before starting it and keeps one that failed to start: every later
        # client of the path would get that broken one, even once the index is rebuilt there
        SharedSystemClient._identifier_to_system.pop(path, None)
        raise


class Store:
    """Reads and writes chunks; the only module that talks to Chroma."""

    def __init__(self, settings: Settings, embeddings: Embeddings) -> None:
        self.settings = settings
        self.embeddings = embeddings
        try:
            self.client = make_client(settings)
        except Exception as exc:
            raise RetrievalUnavailable(f"cannot open the index: {exc}") from exc
        # chromadb keeps one client per path: one left open on broken files would also read the index rebuilt there
        try:
            self.collection = self.client.get_or_create_collection(
                settings.collection, metadata={"hnsw:space": "cosine"}
            )
            self.opened = self.generation()
        except Exception as exc:
            self.close()
            if isinstance(exc, RetrievalUnavailable):
                raise
            raise RetrievalUnavailable(f"cannot open the index: {exc}") from exc

    def generation(self) -> tuple[int, int]:
        """Which index is there now: a rebuild or a changing ingest gives a new value; raises when it is gone.

        In-process, a stat of the index files; on a Chroma server, the marker every changing ingest writes
        there, so every replica sees every ingest (one small read per question).
        """
        if self.settings.chroma_host:
            try:
                marker = self.client.get_or_create_collection(self.settings.collection + MARKER_SUFFIX)
            except Exception as exc:
                raise RetrievalUnavailable(f"index read failed: {exc}") from exc
            return (0, int((marker.metadata or {}).get("generation", 0)))
        try:
            database = (self.settings.index_dir / INDEX_FILE).stat()
        except OSError as exc:
            raise RetrievalUnavailable(f"the index files are gone: {exc}") from exc
        marker_file = self.settings.index_dir / GENERATION_FILE
        return (database.st_ino, marker_file.stat().st_mtime_ns if marker_file.exists() else 0)

    def check_model(self) -> None:
        """Refuse an index whose vectors another embedding model made: its search would be meaningless."""
        try:
            got = self.collection.get(limit=1, include=["metadatas"])
        except Exception as exc:
            raise RetrievalUnavailable(f"index read failed: {exc}") from exc
        stored = str((got["metadatas"] or [{}])[0].get("embed_model", ""))
        wanted = model_identity(self.settings.embed_model_path)
        if stored and stored != wanted:
            raise ConfigError(
                f"the index was embedded with model {stored}, but RAG_EMBED_MODEL "
                f"({self.settings.embed_model or 'the bundled all-MiniLM-L6-v2'}) is model {wanted}: "
                "run `python -m rag ingest` to re-embed, or set RAG_EMBED_MODEL back"
            )

    def mark_changed(self) -> None:
        """Tell running servers that the index changed."""
        if self.settings.chroma_host:
            marker = self.client.get_or_create_collection(self.settings.collection + MARKER_SUFFIX)
            marker.modify(metadata={"generation": time.time_ns()})
        else:
            (self.settings.index_dir / GENERATION_FILE).write_text(f"{time.time_ns()}\n")

    def close(self) -> None:
        """Release the index files."""
        self.client.close()  # type: ignore[attr-defined]  # on the client, not in ClientAPI's stub

    @cached_property
    def vectorstore(self) -> Chroma:
        """The same collection seen through LangChain, for similarity search."""
        return Chroma(
            client=self.client,
            collection_name=self.settings.collection,
            embedding_function=self.embeddings,
        )

    def count(self) -> int:
        """Number of chunks stored."""
        try:
            return self.collection.count()
        except Exception as exc:
            raise RetrievalUnavailable(f"index read failed: {exc}") from exc

    def file_states(self) -> dict[str, FileState]:
        """What is stored per source file, read from chunk metadata in one pass."""
        got = self.collection.get(include=["metadatas"])
        ids: dict[str, set[str]] = defaultdict(set)
        hashes: dict[str, set[str]] = defaultdict(set)
        expected: dict[str, int] = {}
        for chunk_id, meta in zip(got["ids"], got["metadatas"] or []):
            source = str(meta["source"])
            ids[source].add(chunk_id)
            hashes[source].add(str(meta["file_hash"]))
            expected[source] = int(str(meta["n_chunks"]))
        return {
            source: FileState(frozenset(ids[source]), frozenset(hashes[source]), expected[source])
            for source in ids
        }

    def write_files(self, files: list[tuple[list[Chunk], FileState | None]]) -> int:
        """Make each file's stored chunks equal its chunks, embedding all their new text in one pass.

        Returns the number of chunks embedded. Files are batched together, in the model and in Chroma (each
        write call has a fixed cost). A file whose write is cut short fails FileState.is_complete, so the next
        run re-does it: new chunks go first, then the kept chunks get the new file hash, then stale ones go.
        """
        if not files:
            return 0
        new = [c for chunks, state in files for c in chunks if not state or c.id not in state.ids]
        vectors = self.embeddings.embed_documents([c.embed_text for c in new]) if new else []
        for batch in batched(list(zip(new, vectors))):
            self.collection.upsert(
                ids=[c.id for c, _ in batch],
                embeddings=[v for _, v in batch],  # type: ignore[arg-type]
                documents=[c.text for c, _ in batch],
                metadatas=[c.metadata for c, _ in batch],
            )
        # Same text, same vector: only positions and the file hash changed.
        kept = [c for chunks, state in files if state for c in chunks if c.id in state.ids]
        for moved in batched(kept):
            self.collection.update(ids=[c.id for c in moved], metadatas=[c.metadata for c in moved])
        stale = sorted(i for chunks, state in files if state for i in state.ids - {c.id for c in chunks})
        for ids in batched(stale):
            self.collection.delete(ids=ids)
        return len(new)

    def delete_source(self, source: str) -> None:
        """Remove every chunk of a file that no longer exists."""
        self.collection.delete(where={"source": source})

    def all_chunks(self) -> list[Document]:
        """Every stored chunk, with its id in metadata; used to build the keyword index."""
        chunks: list[Document] = []
        # Paged, so a large index over HTTP is read in bounded responses.
        for offset in range(0, self.count(), READ_PAGE):
            got = self.collection.get(include=["documents", "metadatas"], limit=READ_PAGE, offset=offset)
            chunks += [
                Document(page_content=text, metadata={**meta, "chunk_id": chunk_id})
                for chunk_id, text, meta in zip(got["ids"], got["documents"] or [], got["metadatas"] or [])
            ]
        return chunks

    @cached_property
    def listing(self) -> list[tuple[str, str, str]]:
        """The documents, read once per opened index (a changed index is reopened)."""
        return self.documents()

    def documents(self) -> list[tuple[str, str, str]]:
        """(source, title, date) of every indexed file, sorted by source."""
        try:
            got = self.collection.get(include=["metadatas"])
        except Exception as exc:
            raise RetrievalUnavailable(f"index read failed: {exc}") from exc
        found = {
            str(m["source"]): (str(m.get("title", "")), str(m.get("date", "")))
            for m in got["metadatas"] or []
        }
        return [(source, *found[source]) for source in sorted(found)]

    def similarities(self, query_vector: list[float], ids: list[str]) -> dict[str, float]:
        """Cosine similarity of these stored chunks to the query (stored vectors are normalised), by chunk id."""
        if not ids:
            return {}
        try:
            got = self.collection.get(ids=ids, include=["embeddings"])
        except Exception as exc:
            raise RetrievalUnavailable(f"index read failed: {exc}") from exc
        vectors = np.asarray(got["embeddings"], dtype=np.float32)
        return dict(zip(got["ids"], (vectors @ np.asarray(query_vector, dtype=np.float32)).tolist()))

    def dense_search(self, query_vector: list[float], k: int) -> list[tuple[Document, float]]:
        """Nearest chunks with their cosine similarity (1 - cosine distance)."""
        try:
            found = self.vectorstore.similarity_search_by_vector_with_relevance_scores(query_vector, k=k)
        except Exception as exc:
            raise RetrievalUnavailable(f"index query failed: {exc}") from exc
        return [(doc, 1.0 - distance) for doc, distance in found]
