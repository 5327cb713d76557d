"""Every generated sentence checked against the passage it cites; what is not there is dropped."""

from __future__ import annotations

import re
from collections.abc import Iterator
from dataclasses import dataclass

from rag.answer.evidence import Evidence
from rag.policy import Policy
from rag.retrieve import Passage
from rag.text import split_sentences, ungrounded_terms

CITATION = re.compile(r"\[(\d+)\]")
# A sentence ends at . ! or ? (with its citations, which may follow the stop), before more text.
SENTENCE_END = re.compile(r"^(.*?[.!?](?:\s*\[\d+\])*)\s+(?=\S)", re.S)


@dataclass(frozen=True)
class Checked:
    """A generated sentence, the passages it cites, and whether they support it."""

    text: str
    cited: tuple[int, ...]
    supported: bool
    why: str = ""


def sentences(tokens: Iterator[str]) -> Iterator[str]:
    """Whole sentences from a token stream, as soon as each one ends."""
    buffer = ""
    for token in tokens:
        buffer += token
        while match := SENTENCE_END.match(buffer):
            yield match.group(1).strip()
            buffer = buffer[match.end() :]
    if buffer.strip():
        yield buffer.strip()


def check(sentence: str, passages: list[Passage], evidence: Evidence, policy: Policy) -> Checked:
    """Supported when it cites passages that hold its names and numbers and a sentence close in meaning."""
    cited = tuple(dict.fromkeys(int(n) for n in CITATION.findall(sentence)))
    claim = CITATION.sub("", sentence).strip()
    if not cited:
        return Checked(claim, cited, False, "no citation")
    if any(not 1 <= n <= len(passages) for n in cited):
        return Checked(claim, cited, False, "cites a passage that was not given")
    texts = [evidence.full_text(passages[n - 1]) for n in cited]
    missing = ungrounded_terms(claim, " ".join(texts))
    if missing:
        return Checked(claim, cited, False, f"not in the cited passage: {sorted(missing)}")
    similarity = evidence.similarity(claim, [s for t in texts for s in split_sentences(t)])
    if similarity < policy.verify_min_similarity:
        return Checked(claim, cited, False, f"closest cited sentence only {similarity:.2f}")
    return Checked(claim, cited, True)
