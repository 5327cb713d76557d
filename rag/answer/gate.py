"""Answer or refuse: a calibrated score over what the evidence shows, not a count of shared words."""

from __future__ import annotations

import math
import re

from rag.answer.evidence import GATHERED_FORMS, Evidence, before_aside
from rag.answer.model import Sentence
from rag.answer.question import VALUE_FORMS, Form, acronym_asked, asked_nouns, counted_nouns
from rag.policy import Policy
from rag.retrieve import Passage
from rag.text import numbers, range_bounds, term_in, tokenize

# "Which resolution…", "which armed group…": the answer names or numbers the thing asked for.
IDENTIFIES = re.compile(r"^\W*(?:\w+\s+)?which\s+(?!of\b)[a-z]", re.I)

# Each is in [0, 1]; what it asks of the best sentence (with its section heading) and its passage:
FEATURES = (
    "dense",  # cosine of the question and the sentence
    "overlap",  # IDF-weighted share of the question's words in the sentence (heading words count half)
    "passage_coverage",  # the same share in the whole passage
    "key_terms_found",  # share of the question's non-generic names and numbers in the passage
    "sentence_terms",  # the same share in the sentence
    "rarest",  # the question's rarest word is in the sentence
    "missing_idf",  # weight of the rarest word the sentence lacks, against the rarest word asked
    "top3_overlap",  # the best overlap among the three best sentences
    "soft_coverage",  # overlap where a missing word counts by its closest word in the sentence
    "typed_value",  # a date, number, name or long form asked for ("which X": a name or number) is in the sentence, beyond the question's
    "other_number",  # a number (or year) the question gives is not in the sentence, which gives another instead
    "counted_value",  # for "how many X": a number in the sentence counts X (or names no unit)
    "unnamed_coverage",  # soft coverage of the question's words outside its names and numbers ("vote", "signed")
    "other_name",  # the sentence (a list's or account's best three) names the kind asked as another: "camp at Tema"
    "asked_noun",  # for "what X…" or "who was the X…": X, or its closest word by meaning, is in the sentence ("venue")
)


def features(
    query: str, form: Form, ranked: list[Sentence], passages: list[Passage], evidence: Evidence
) -> dict[str, float]:
    """What the best evidence shows, feature by feature (FEATURES)."""
    best = ranked[0]
    passage = evidence.full_text(passages[best.passage - 1])
    near = evidence.with_aliases(f"{passages[best.passage - 1].metadata.get('section', '')} {best.text}")
    near_tokens = set(tokenize(near))
    terms = evidence.key_terms(query)
    weights = evidence.weights(query)
    rarest = max(weights, key=weights.__getitem__) if weights else ""
    missing = [w for t, w in weights.items() if t not in near_tokens and not term_in(t, near)]
    # A follow-up's closing aside carries the earlier turn's figures: they set its scene, the question asks none.
    own = before_aside(query)
    asked, said = numbers(own) - range_bounds(own), numbers(near)
    # The sentence names or numbers what the question does not.
    names_one = form is Form.FACT and evidence.identifies(best.text, query)
    return {
        "dense": best.dense,
        "overlap": best.overlap,
        "passage_coverage": evidence.coverage(query, passage),
        "key_terms_found": _share(terms, passage),
        "sentence_terms": _share(terms, near),
        "rarest": float(not rarest or rarest in near_tokens or term_in(rarest, near)),
        "missing_idf": max(missing, default=0.0) / (max(weights.values(), default=1.0) or 1.0),
        "top3_overlap": max(s.overlap for s in ranked[:3]),
        "soft_coverage": evidence.coverage(query, near, soft=True),
        "typed_value": float(
            (
                form not in VALUE_FORMS
                and not acronym_asked(query)
                and not (form is Form.FACT and IDENTIFIES.search(query))
            )
            or bool(evidence.values(form, best.text, query))
            or names_one
        ),
        "other_number": float(any(not term_in(n, near) for n in asked) and bool(said - asked)),
        "counted_value": float(
            form is not Form.NUMBER
            or not counted_nouns(query)
            or bool(evidence.counting(form, best.text, query))
        ),
        "unnamed_coverage": evidence.coverage(query, near, soft=True, unnamed=True),
        # A list or account gathers several sentences: one naming a neighbour of the thing asked does not make
        # the evidence about another thing while one of the next two names the thing itself.
        "other_name": float(
            all(evidence.names_another(query, s.text) for s in ranked[: 3 if form in GATHERED_FORMS else 1])
        ),
        # "Which outlet…" is answered by a name ("the Ledger"), which no cosine ties to the noun asked.
        "asked_noun": (
            evidence.mentions(query, asked_nouns(query), near)
            if (form is Form.FACT and not (IDENTIFIES.search(query) and names_one)) or form is Form.WHO
            else 1.0
        ),
    }


def _share(terms: set[str], text: str) -> float:
    return sum(term_in(t, text) for t in terms) / len(terms) if terms else 1.0


def probability(values: dict[str, float], policy: Policy) -> float:
    """The calibrated probability that the evidence answers the question."""
    z = policy.gate_bias + sum(w * values[name] for w, name in zip(policy.gate_weights, FEATURES))
    return 1 / (1 + math.exp(-z))


def answerable(values: dict[str, float], form: Form, policy: Policy) -> bool:
    """Answer when the probability reaches the threshold chosen on the dev split for this form of question."""
    threshold = policy.gathered_threshold if form in GATHERED_FORMS else policy.gate_threshold
    return probability(values, policy) >= threshold
