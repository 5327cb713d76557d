"""Realistic synthetic corpora: the corpus's own sentences (and ../shared notes if present), recombined."""

from __future__ import annotations

import json
import random
import time
from pathlib import Path

import numpy as np
from langchain_core.embeddings import Embeddings

from rag.ingest import discover, load_document
from rag.store import Store
from rag.text import split_sentences

ROOT = Path(__file__).resolve().parent.parent
NOTES = ROOT.parent / "shared" / "corpus" / "notes"
MIN_SENTENCE_CHARS = 30


def sentence_pool(limit: int | None = None) -> tuple[list[str], list[str]]:
    """Distinct sentences and document titles of the corpus, plus the fetched notes when they are here."""
    folders = [ROOT / "corpus"] + ([NOTES] if NOTES.is_dir() else [])
    sentences: dict[str, None] = {}
    titles: list[str] = []
    for path in discover(folders)[0]:
        doc = load_document(path, 10**8)
        titles.append(doc.title)
        for section in doc.sections:
            sentences.update((s, None) for s in split_sentences(section.text) if len(s) >= MIN_SENTENCE_CHARS)
    return list(sentences)[:limit], titles


class SentenceMixer:
    """Chunks of 2–4 random sentences; each vector is the normalised mean of its sentences' vectors."""

    def __init__(
        self, sentences: list[str], titles: list[str], embeddings: Embeddings, seed: int = 7
    ) -> None:
        self.sentences = sentences
        self.titles = titles
        self.embeddings = embeddings
        started = time.perf_counter()
        self.vectors = np.asarray(embeddings.embed_documents(sentences), dtype=np.float32)
        self.embed_s = time.perf_counter() - started
        self.rng = random.Random(seed)

    def chunk(self) -> tuple[str, list[float]]:
        """One chunk's text and vector."""
        picks = self.rng.sample(range(len(self.sentences)), self.rng.randint(2, 4))
        vector = self.vectors[picks].mean(axis=0)
        return " ".join(self.sentences[i] for i in picks), (vector / np.linalg.norm(vector)).tolist()

    def fill(self, store: Store, n: int) -> None:
        """Write n chunks straight into the store's collection, in the product's metadata shape."""
        batch = min(store.client.get_max_batch_size(), 5_000)
        for start in range(0, n, batch):
            ids, texts, vectors, metas = [], [], [], []
            for i in range(start, min(n, start + batch)):
                text, vector = self.chunk()
                ids.append(f"synthetic-{i}")
                texts.append(text)
                vectors.append(vector)
                metas.append(
                    {
                        "source": f"synthetic/{i // 20:05d}.md",
                        "title": self.rng.choice(self.titles),
                        "section": "",
                        "position": i % 20,
                        "file_hash": "synthetic",
                        "n_chunks": 20,
                    }
                )
            store.collection.upsert(ids=ids, embeddings=vectors, documents=texts, metadatas=metas)  # type: ignore[arg-type]

    def write_files(self, folder: Path, files: int, paragraphs: int) -> None:
        """Markdown documents with front matter, for timing the ingestion command."""
        folder.mkdir(parents=True, exist_ok=True)
        for f in range(files):
            body = "\n\n".join(self.chunk()[0] for _ in range(paragraphs))
            title = f"{self.rng.choice(self.titles)} (synthetic {f})"
            front = (
                f"---\ntitle: {json.dumps(title)}\ndate: 2024-01-01\n---\n\n"  # JSON strings are valid YAML
            )
            (folder / f"doc-{f:04d}.md").write_text(f"{front}{body}\n")
