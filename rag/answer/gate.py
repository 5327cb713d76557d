"""Answer or refuse: a calibrated score over what the evidence shows, not a count of shared words."""

from __future__ import annotations

import math

from rag.answer.evidence import Evidence, full_text
from rag.answer.model import Sentence
from rag.answer.question import VALUE_FORMS, Form
from rag.policy import Policy
from rag.retrieve import Passage
from rag.text import numbers, term_in

# Each is in [0, 1]; what it asks of the best sentence (with its section heading) and its passage. Chosen by
# backward elimination on the dev split (eval/calibrate.py, 5-fold cross-validation): dropping the IDF-weighted
# overlap in the sentence and in the passage, whether the rarest word is in the sentence and the weight of the
# rarest missing word (each near-collinear with a kept one, and fitted with signs of no meaning) took the engine
# from 68.6% to 71.8% there.
FEATURES = (
    "dense",  # cosine of the question and the sentence
    "key_terms_found",  # share of the question's non-generic names and numbers in the passage
    "sentence_terms",  # the same share in the sentence
    "top3_overlap",  # the best IDF-weighted share of the question's words among the three best sentences
    "soft_coverage",  # that share in the sentence, where a missing word counts by its closest word there
    "typed_value",  # a date, number or name asked for is in the sentence, beyond those the question gives
    "other_number",  # a number (or year) the question gives is not in the sentence, which gives another instead
)


def features(
    query: str, form: Form, ranked: list[Sentence], passages: list[Passage], evidence: Evidence
) -> dict[str, float]:
    """What the best evidence shows, feature by feature (FEATURES)."""
    best = ranked[0]
    passage = full_text(passages[best.passage - 1])
    near = f"{passages[best.passage - 1].metadata.get('section', '')} {best.text}"
    terms = evidence.key_terms(query)
    asked, said = numbers(query), numbers(near)
    return {
        "dense": best.dense,
        "key_terms_found": _share(terms, passage),
        "sentence_terms": _share(terms, near),
        "top3_overlap": max(s.overlap for s in ranked[:3]),
        "soft_coverage": evidence.coverage(query, near, soft=True),
        "typed_value": float(form not in VALUE_FORMS or bool(evidence.values(form, best.text, query))),
        "other_number": float(bool(asked - said) and bool(said - asked)),
    }


def _share(terms: set[str], text: str) -> float:
    return sum(term_in(t, text) for t in terms) / len(terms) if terms else 1.0


def probability(values: dict[str, float], policy: Policy) -> float:
    """The calibrated probability that the evidence answers the question."""
    z = policy.gate_bias + sum(w * values[name] for w, name in zip(policy.gate_weights, FEATURES))
    return 1 / (1 + math.exp(-z))


def answerable(values: dict[str, float], policy: Policy) -> bool:
    """Answer when the probability reaches the threshold chosen on the dev split."""
    return probability(values, policy) >= policy.gate_threshold
