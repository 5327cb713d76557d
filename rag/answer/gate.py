"""Answer or refuse: a calibrated score over what the evidence shows, not a count of shared words."""

from __future__ import annotations

import math

from rag.answer.evidence import Evidence, full_text
from rag.answer.model import Sentence
from rag.answer.question import Form
from rag.policy import Policy
from rag.retrieve import Passage
from rag.text import term_in, tokenize

FEATURES = (
    "dense", "overlap", "passage_coverage", "key_terms_found", "sentence_terms", "rarest", "missing_idf",
    "top3_overlap", "soft_coverage",
)  # fmt: skip


def features(
    query: str, form: Form, names_of: str, ranked: list[Sentence], passages: list[Passage], evidence: Evidence
) -> dict[str, float]:
    """What the best evidence shows: its meaning, its words, the question's names, the kind of value asked."""
    best = ranked[0]
    passage = full_text(passages[best.passage - 1])
    terms = evidence.key_terms(names_of)
    context = f"{passage}"
    found = sum(term_in(t, context) for t in terms) / len(terms) if terms else 1.0
    heading = str(passages[best.passage - 1].metadata.get("section", ""))
    near = f"{heading} {best.text}"
    in_sentence = sum(term_in(t, near) for t in terms) / len(terms) if terms else 1.0
    weights = evidence.weights(query)
    rarest = max(weights, key=weights.__getitem__) if weights else ""
    near_tokens = set(tokenize(near))
    missing = [w for t, w in weights.items() if t not in near_tokens and not term_in(t, near)]
    ceiling = max(weights.values(), default=1.0) or 1.0
    return {
        "missing_idf": max(missing, default=0.0) / ceiling,
        "top3_overlap": max(s.overlap for s in ranked[:3]),
        "soft_coverage": evidence.soft_coverage(query, near),
        "sentence_terms": in_sentence,
        "rarest": float(not rarest or rarest in set(tokenize(near)) or term_in(rarest, near)),
        "dense": best.dense,
        "overlap": best.overlap,
        "passage_coverage": evidence.coverage(query, passage),
        "key_terms_found": found,
    }


def probability(values: dict[str, float], policy: Policy) -> float:
    """The calibrated probability that the evidence answers the question."""
    z = policy.gate_bias + sum(w * values[name] for w, name in zip(policy.gate_weights, FEATURES))
    return 1 / (1 + math.exp(-z))


def answerable(values: dict[str, float], policy: Policy) -> bool:
    """Answer when the probability reaches the threshold chosen on the dev split."""
    return probability(values, policy) >= policy.gate_threshold
