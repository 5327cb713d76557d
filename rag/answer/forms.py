"""The answer shapes a reader sees: a short fact with its sentence, a list, an explanation, disagreeing sources."""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import replace

from rag.answer.evidence import MONEY_BEFORE, SCALE_WORDS, SHARE, Evidence, counted
from rag.answer.model import Sentence
from rag.answer.question import ASKS_EVENTS, VALUE_FORMS, Form, counted_nouns
from rag.policy import Policy
from rag.retrieve import Passage
from rag.text import (
    FOLDED_MONTHS,
    WEEKDAYS,
    YEAR,
    defang,
    fold,
    key_terms,
    range_bounds,
    term_in,
    tokenize,
    words,
)

# A name with "the" (or "a", "its"…) just before it, adjectives allowed between: a title or a body, not a person.
DETERMINED = re.compile(r"\b(?:the|a|an|its|his|her|their)\s+(?:[a-z][\w-]*\s+){0,2}$")

# ", announced on 5 May 2023, was held on…": a value in an aside describes the subject; the clause states the other.
ASIDE_BEFORE = re.compile(r",\s+([a-z]+ed)\s+(?:on|in|at|by|from|until)?\s*$")
# An open bracket before a value: "(reported on 9 May)", "law 44 (2019)" qualify what came before.
IN_BRACKETS = re.compile(r"\([^()]*$")
# "360 of 927 staff": the figure after "of" is the whole that the one before it is part of.
WHOLE_OF = re.compile(r"\d\s+of\s+$")
# The words that scale an amount ("$5 million"); other words after an amount with its currency before it say where
# or when, not what it counts ("$3.20 anywhere on the network").
SCALE = re.compile(rf"(?:{SCALE_WORDS})s?", re.I)
# An item that names where its figure comes from: a list of such items is a list of sources that disagree.
ATTRIBUTED = re.compile(r"\b(?:according to|as reported by|reported by)\b", re.I)
# "What share…", "what percentage…": the answer is a share, not the count it is taken of.
ASKS_SHARE = re.compile(r"\b(?:percentage|proportion|share|per\s*cent|percent|fraction)\b", re.I)


def compose(
    form: Form,
    query: str,
    ranked: list[Sentence],
    passages: list[Passage],
    evidence: Evidence,
    policy: Policy,
) -> tuple[str, set[int]]:
    """The answer text, each piece cited, and the passages it cites."""

    def repeats(text: str, said: list[str]) -> bool:
        return evidence.repeats(text, said, policy.repeat_similarity)

    subjects = evidence.subjects(query) if form in (Form.LIST, Form.EXPLAIN) else frozenset()
    # "What happened in 2021?": its events are the sentences dated then, whatever their score.
    dated = of_the_time(query, subjects, ranked)

    if form is Form.LIST or dated:
        chosen = gather(
            dated or ranked,
            query,
            0.0 if dated else policy.list_ratio,
            policy.max_list_items,
            new_facts=True,
            neighbours=policy.list_neighbour_ratio,
            repeats=repeats,
            subjects=subjects,
            subject_ratio=policy.subject_ratio,
        )
        if len(chosen) > 1:
            return "\n".join(f"- {cite(s)}" for s in chosen), {s.passage for s in chosen}
        if dated and form is not Form.EXPLAIN:
            return cite(chosen[0]), {chosen[0].passage}
        if dated:
            # The one event of that time, told as its account goes on: "…turned into a coup. The president…".
            event = chosen[0]
            after = (s for s in ranked if s.passage == event.passage and s.position > event.position)
            ranked = [event, *after]
    if form is Form.EXPLAIN:
        chosen = gather(
            ranked,
            query,
            policy.explain_ratio,
            policy.max_explain_sentences,
            new_facts=False,
            repeats=repeats,
            subjects=subjects,
            subject_ratio=policy.subject_ratio,
        )
        return " ".join(cite(s) for s in chosen), {s.passage for s in chosen}
    return fact(form, query, ranked, passages, evidence, policy)


def of_the_time(query: str, subjects: frozenset[str], ranked: list[Sentence]) -> list[Sentence]:
    """For a question asking for the events of a time alone ("What happened in May 2021?"), the sentences of that
    year (and month), best first; [] for any other question."""
    years = {s for s in subjects if YEAR.fullmatch(s)}
    if not years or years != subjects or range_bounds(query) or not ASKS_EVENTS.search(query):
        return []
    months = FOLDED_MONTHS & set(words(query))
    return [
        s for s in ranked if set(YEAR.findall(s.text)) & years and (not months or months & set(words(s.text)))
    ]


def fact(
    form: Form,
    query: str,
    ranked: list[Sentence],
    passages: list[Passage],
    evidence: Evidence,
    policy: Policy,
) -> tuple[str, set[int]]:
    """A short answer first, then the sentence that states it; another source's differing figure beside it."""
    best = ranked[0]
    # "What…" is answered by an account, which a sentence that points back goes on with.
    if form not in VALUE_FORMS:
        best = going_on(best, ranked)
    rivals = _rivals(form, query, best, ranked, evidence, policy.refine_ratio)
    ours = _values(form, best.text, query, evidence)
    # The same value told more precisely ("25 April 2013" where the best says "April 2013") answers better.
    floor = policy.disagreement_ratio * best.score
    # Told more precisely again ("2013", then "April 2013", then "25 April 2013"): each sentence is taken once.
    taken = {best.text}
    value = asked_value(form, best.text, query, evidence)
    while finer := next((o for o, theirs in rivals if o.text not in taken and _refines(theirs, value)), None):
        taken.add(finer.text)
        best, ours = finer, _values(form, finer.text, query, evidence)
        value = asked_value(form, best.text, query, evidence)
    lines = []
    short = short_answer(form, best.text, query, evidence)
    if short:
        lines.append(f"{short} [{best.passage}].")
    lines.append(f"“{defang(best.text)}” [{best.passage}]")
    cited = {best.passage}
    # A document that lists what its sources say ("311 deaths, the UN figure…", "310 deaths, according to…") is
    # quoted whole: one item and one rival would misstate it.
    listed = _listed_values(form, query, best, ours, ranked, evidence, floor, policy.max_list_items - 1)
    if listed:
        lines.append("The same list also gives:\n" + "\n".join(f"- {cite(s)}" for s in listed))
        return "\n\n".join(lines), cited
    for other, theirs in rivals:
        if other.score >= floor and other.text != best.text and ours and not _agree(theirs, ours):
            lines.append(f"Another source gives: “{defang(other.text)}” [{other.passage}]")
            cited.add(other.passage)
            break
    return "\n\n".join(lines), cited


def _listed_values(
    form: Form,
    query: str,
    best: Sentence,
    ours: set[str],
    ranked: list[Sentence],
    evidence: Evidence,
    floor: float,
    room: int,
) -> list[Sentence]:
    """The other items of the best sentence's list that give other values of the asked kind, in the list's order,
    when most of the list says whose figure it gives (a breakdown, "rolling stock: $131 million;", is no such list)."""
    if not (ours and best.item):
        return []
    found, given = [], [ours]
    for other in sorted(_neighbours([best], ranked, floor, room), key=lambda s: s.line):
        theirs = _values(form, other.text, query, evidence)
        if theirs and not any(_agree(theirs, g) for g in given):
            found.append(other)
            given.append(theirs)
    sourced = sum(bool(ATTRIBUTED.search(s.text)) for s in [best, *found])
    return found if 2 * sourced > len(found) + 1 else []


def short_answer(form: Form, sentence: str, query: str, evidence: Evidence) -> str:
    """The value asked for, taken from the sentence, as the answer's first line."""
    match = _answer_match(form, sentence, query, evidence)
    if match is None:
        return ""
    value = match.group()
    if form is Form.DATE:
        has_day = re.match(r"\d{1,2}\s+[A-Z]", value) or re.search(r"[a-z]\s+\d{1,2}\b(?!\d)", value)
        return f"On {value}" if has_day else f"In {value}"
    if form is Form.NUMBER:
        per = SHARE.match(sentence, match.end())
        if per:
            return f"{value}{per.group()}"
        unit = counted(sentence, match.end())
        currency = MONEY_BEFORE.search(sentence, 0, match.start())
        if currency:
            scale = unit[:1] if unit and SCALE.fullmatch(unit[0]) else []
            sign = currency.group().strip()
            return " ".join([f"{sign}{' ' * sign.isalpha()}{value}", *scale])
        return " ".join([value, *unit])
    return value.strip()


def asked_value(form: Form, sentence: str, query: str, evidence: Evidence) -> str:
    """The value the short answer gives, compared as values are ("" for none)."""
    match = _answer_match(form, sentence, query, evidence)
    return _value(match.group()) if match else ""


def _counts_setting(sentence: str, match: re.Match[str], query: str, asked: list[str]) -> bool:
    """The number counts a thing the question names, not what it counts (`asked`): "245 attacks" to "…the attacks?"."""
    unit = counted(sentence, match.end())
    return (
        bool(asked)
        and any(term_in(u, query) for u in unit)
        and not any(term_in(a, " ".join(unit)) for a in asked)
    )


def _answer_match(form: Form, sentence: str, query: str, evidence: Evidence) -> re.Match[str] | None:
    """The value asked for in the sentence: the one nearest the question's words there."""
    # "How many stops…" is not answered by "38 minutes", nor "who…" by "Sunday"; the sentence is still quoted.
    found = [
        m
        for m in evidence.counting(form, sentence, query)
        if form is not Form.WHO or (fold(m.group()) not in WEEKDAYS and not _office(sentence, m, evidence))
    ]
    if not found:
        return None
    weights = evidence.weights(query)
    anchors = [
        m.start()
        for m in re.finditer(r"[^\W_]+", sentence)
        if set(_corrected(m.group(), evidence)) & set(weights)
    ]
    share = form is Form.NUMBER and ASKS_SHARE.search(query) is not None
    asked = counted_nouns(query) if form is Form.NUMBER else []
    # "Who…" is answered by someone's name before a title or a body ("the first Special Representative").
    return min(
        found,
        key=lambda m: (
            form is Form.WHO and DETERMINED.search(sentence[: m.start()]) is not None,
            # "Who was the first head of the League?" is not answered by "Head of the League".
            form is Form.WHO and any(a in weights for a in _corrected(m.group(), evidence)),
            form is Form.WHO and _title(m.group(), evidence),
            share and not SHARE.match(sentence, m.end()),
            _in_aside(sentence, m, weights, evidence),
            IN_BRACKETS.search(sentence[: m.start()]) is not None,
            form is Form.NUMBER and WHOLE_OF.search(sentence[: m.start()]) is not None,
            form is Form.NUMBER and _counts_setting(sentence, m, query, asked),
            min((abs(m.start() - a) for a in anchors), default=0),
        ),
    )


def _title(name: str, evidence: Evidence) -> bool:
    """Common words capitalised ("Special Representative"), where a name has a word of its own ("Wane")."""
    return not any(evidence.vocabulary.names_something(w) for w in words(name))


def _office(sentence: str, value: re.Match[str], evidence: Evidence) -> bool:
    """A title after "the" ("to the President of the Council") names an office, never who held it."""
    return _title(value.group(), evidence) and DETERMINED.search(sentence[: value.start()]) is not None


def _in_aside(sentence: str, value: re.Match[str], weights: dict[str, float], evidence: Evidence) -> bool:
    """The value describes the subject in an aside (", announced on 5 May,") whose verb the question does not use.

    "Who led the association?" is answered by the aside of "The association, led by Ann Lee, argued…".
    """
    before = ASIDE_BEFORE.search(sentence[: value.start()])
    return (
        before is not None
        and sentence[value.end() :].lstrip().startswith(",")
        and not set(_corrected(before.group(1), evidence)) & set(weights)
    )


def _corrected(text: str, evidence: Evidence) -> list[str]:
    """The text's tokens as the question's are read: typos corrected to the corpus's words."""
    return [evidence.vocabulary.correct(t, evidence.policy.typo_min_ratio) for t in tokenize(text)]


def gather(
    ranked: list[Sentence],
    query: str,
    ratio: float,
    limit: int,
    *,
    new_facts: bool,
    neighbours: float | None = None,
    repeats: Callable[[str, list[str]], bool] | None = None,
    subjects: frozenset[str] = frozenset(),
    subject_ratio: float = 0.0,
) -> list[Sentence]:
    """The best sentence, the ones that follow it in an account, then others close to it in score.

    Each adds something; they come back in the documents' order. With neighbours, a chosen item of a list brings
    the items next to it that score at least that share of the best sentence. A sentence that `repeats` one
    chosen (two documents stating the same fact) is left out.
    """
    best = going_on(ranked[0], ranked)
    best = _item_named(best, ranked) if new_facts else best
    chosen: list[Sentence] = [best]
    seen = key_terms(best.text) | key_terms(query)
    # The best sentence is an item of a document's list that answers when the list brings another of its items.
    floor = (neighbours if neighbours is not None else ratio) * best.score
    listed = best.item and any(
        s.item and s.passage == best.passage and s.line != best.line and s.score >= floor for s in ranked
    )
    # An account goes on in the sentences after its best one; a list's items each earn their place.
    following = sorted(
        (
            s
            for s in ranked
            if not new_facts and s.passage == best.passage and 0 < s.position - best.position <= limit // 2
        ),
        key=lambda s: s.position,
    )
    if not new_facts and not best.item:
        # "…late, for four reasons." led in a list: the account is its items, each named by its first sentence.
        items = _items_after(best, ranked)
        if len(items) > 1:
            following = items[: limit - 1]
    # "…while it was pulling out in 2023", "…between 2014 and 2022": an item dated only in other years is of
    # another time.
    years = _years_asked(query) if new_facts else set()
    for sentence in [*following, *ranked[1:]]:
        if len(chosen) >= limit:
            break
        if sentence not in following and sentence.score < ratio * best.score:
            continue
        if years and (dated := set(YEAR.findall(sentence.text))) and not dated & years:
            continue
        if new_facts:
            sentence = _item_named(sentence, ranked)
            if listed and not sentence.item:
                continue  # a list answer found a document's list: it is that list, not sentences around it
        sentence = _beyond(sentence, chosen)
        if any(_overlaps(sentence, c) for c in chosen):
            continue
        if new_facts and any(_same_item(sentence, c) for c in chosen):
            continue  # a list answer quotes each item of a document's list once
        if repeats is not None and repeats(sentence.text, [c.text for c in chosen]):
            continue
        new = key_terms(sentence.text) - seen
        if new_facts and not new and sentence not in following:
            continue
        chosen.append(sentence)
        seen |= new
    # "…at Lagos, Accra and Lomé?" asks about each: a subject no chosen sentence names gets its best sentence.
    for term in sorted(subjects, key=lambda t: (query.find(t), t)) if len(subjects) > 1 else ():
        if len(chosen) >= limit:
            break
        named = next((s for s in ranked if term_in(term, s.text)), None)
        if (
            named is not None
            and named.score >= subject_ratio * best.score
            and not any(term_in(term, c.text) or _overlaps(named, c) for c in chosen)
        ):
            chosen.append(named)
    if neighbours is not None:
        chosen += _neighbours(chosen, ranked, neighbours * best.score, limit - len(chosen))
    return sorted(chosen, key=lambda s: (s.passage, s.position))


def _years_asked(query: str) -> set[str]:
    """The years a question asks about: those it names, or every year of the span it names."""
    bounds = sorted(int(y) for y in range_bounds(query))
    if len(bounds) == 2:
        return {str(y) for y in range(bounds[0], bounds[1] + 1)}
    return set() if bounds else set(YEAR.findall(query))


def _neighbours(chosen: list[Sentence], ranked: list[Sentence], floor: float, room: int) -> list[Sentence]:
    """The items of the chosen items' lists, next to them with no other line between, scoring at least floor.

    A list question answered by one item of a document's list is answered by that list.
    """
    # Each item by its first sentence, which names it; the sentences after it say more of the same item.
    at: dict[tuple[int, int], Sentence] = {}
    for s in sorted(ranked, key=lambda s: s.position, reverse=True):
        at[(s.passage, s.line)] = s
    found: list[Sentence] = []
    for sentence in (s for s in chosen if s.item):
        for step in (1, -1):
            line = sentence.line + step
            while len(found) < room and (other := at.get((sentence.passage, line))) and other.item:
                taken = [*chosen, *found]
                if other.score >= floor and not any(
                    _overlaps(other, c) or _same_item(other, c) for c in taken
                ):
                    found.append(other)
                line += step
    return found


def _items_after(lead: Sentence, ranked: list[Sentence]) -> list[Sentence]:
    """The first sentence of each item of the list that starts right after the lead-in, in order."""
    first: dict[int, Sentence] = {}
    after = (s for s in ranked if s.passage == lead.passage and s.position > lead.position)
    for s in sorted(after, key=lambda s: s.position):
        if not s.item:
            break
        first.setdefault(s.line, s)
    return list(first.values())


def _item_named(sentence: Sentence, ranked: list[Sentence]) -> Sentence:
    """An item of a document's list by its first sentence, which names it ("Ann Lee, 2006 to 2011. She…")."""
    if not sentence.item:
        return sentence
    return min(
        (s for s in ranked if s.passage == sentence.passage and s.line == sentence.line),
        key=lambda s: s.position,
    )


def _same_item(one: Sentence, other: Sentence) -> bool:
    """Both are sentences of one item of a document's list."""
    return one.item and other.item and one.passage == other.passage and one.line == other.line


def going_on(best: Sentence, ranked: list[Sentence]) -> Sentence:
    """The sentence read with the one after it, when that one points back to it ("It extended…")."""
    after = next(
        (s for s in ranked if s.passage == best.passage and s.start == best.position < s.position), None
    )
    if after is None:
        return best
    # Each is read with the sentence before it: they share that one, which is said once.
    shared = _shared(best.text, after.text)
    return replace(
        after, text=f"{best.text}{after.text[shared:] if shared else ' ' + after.text}", start=best.start
    )


def _beyond(sentence: Sentence, chosen: list[Sentence]) -> Sentence:
    """The sentence without the one before it that it was read with, when a chosen sentence already quotes that one."""
    lead = next(
        (
            c
            for c in chosen
            if c.passage == sentence.passage and c.start <= sentence.start <= c.position < sentence.position
        ),
        None,
    )
    if lead is None:
        return sentence
    shared = _shared(lead.text, sentence.text)
    if not shared:
        return sentence
    return replace(sentence, text=sentence.text[shared:].strip(), start=sentence.position)


def _shared(earlier: str, later: str) -> int:
    """How long a start of the later text the earlier one ends with: the sentence both were read with."""
    return next(k for k in range(min(len(earlier), len(later)), -1, -1) if earlier.endswith(later[:k]))


def _overlaps(one: Sentence, other: Sentence) -> bool:
    """The two quote some of the same sentences (one read with the sentence before it)."""
    if one.text in other.text or other.text in one.text:
        return True
    return one.passage == other.passage and one.start <= other.position and other.start <= one.position


def cite(sentence: Sentence) -> str:
    """A sentence with its citation."""
    text = defang(sentence.text).rstrip()
    return f"{text} [{sentence.passage}]"


def _rivals(
    form: Form, query: str, best: Sentence, ranked: list[Sentence], evidence: Evidence, ratio: float
) -> list[tuple[Sentence, set[str]]]:
    """Other sentences scoring `ratio` of the best about the same subject, each with its values of the asked kind."""
    if form not in VALUE_FORMS:
        return []
    terms = evidence.key_terms(query)
    found = []
    for other in ranked[1:8]:
        if other.score < ratio * best.score or other.text == best.text:
            continue
        theirs = _values(form, other.text, query, evidence)
        # A name counts under its other name too: "the Alliance of Sahel States" speaks of the "AES".
        said = evidence.with_aliases(other.text)
        same_subject = terms <= key_terms(said) | {t for t in terms if fold(t) in fold(said)}
        if theirs and same_subject:
            found.append((other, theirs))
    return found


def _values(form: Form, text: str, query: str, evidence: Evidence) -> set[str]:
    return {_value(m.group()) for m in evidence.counting(form, text, query)}


def _refines(theirs: set[str], ours: str) -> bool:
    """One of their values is ours told more precisely ("25 april 2013" for "2013")."""
    return bool(ours) and any(_within(ours, a) and a != ours for a in theirs)


def _agree(theirs: set[str], ours: set[str]) -> bool:
    """Some value is the same, or one is the other told more precisely ("April 2013", "25 April 2013")."""
    return any(_within(a, b) or _within(b, a) for a in theirs for b in ours)


def _within(less: str, more: str) -> bool:
    """Every word of one value is in the other ("april 2013" in "25 april 2013"; "13" is not in "130")."""
    return set(less.split()) <= set(more.split())


def _value(text: str) -> str:
    return fold(text).replace(",", "")
