"""Sentence embeddings cached for as long as their model is loaded, shared by every answer chain built over it."""

from __future__ import annotations

import numpy as np
from langchain_core.embeddings import Embeddings

# The corpus's sentences and the questions' words come back query after query; 50,000 vectors of 384 floats are about
# 150 MB, several times this corpus's sentences.
CACHE_SIZE = 50_000


class SentenceVectors:
    """Embeddings of texts by the given model, each computed once until the cache is full, then afresh."""

    def __init__(self, embeddings: Embeddings, size: int = CACHE_SIZE) -> None:
        self.embeddings = embeddings
        self.size = size
        self._vectors: dict[str, np.ndarray] = {}

    def __call__(self, texts: list[str]) -> np.ndarray:
        """One row per text, in order."""
        # Read from a local copy: another request may clear the shared cache meanwhile.
        found = {t: v for t in dict.fromkeys(texts) if (v := self._vectors.get(t)) is not None}
        missing = [t for t in dict.fromkeys(texts) if t not in found]
        if missing:
            if len(self._vectors) + len(missing) > self.size:
                self._vectors.clear()
            for text, vector in zip(missing, self.embeddings.embed_documents(missing)):
                found[text] = self._vectors[text] = np.asarray(vector)
        return np.asarray([found[t] for t in texts])
