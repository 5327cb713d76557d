"""Which sentences of the retrieved passages speak to the question, best first."""

from __future__ import annotations

import datetime
import re
from collections.abc import Callable
from dataclasses import replace
from typing import Any, NamedTuple

import numpy as np
from langchain_core.embeddings import Embeddings

from rag.answer.model import Sentence
from rag.answer.question import (
    ANY_PERSON,
    ARTICLES,
    ASKS_DAY,
    ASKS_MONEY,
    ASKS_OWNER,
    ASKS_SOURCE,
    Form,
    acronym_asked,
    asked_kinds,
    counted_nouns,
    presupposes,
)
from rag.answer.vectors import SentenceVectors
from rag.policy import Policy
from rag.retrieve import Passage, Vocabulary
from rag.text import (
    ADDRESS,
    DATE,
    DERIVED_MIN_BASE,
    FOLDED_MONTHS,
    MONTHS,
    NUMBER,
    ORDINAL_FIGURE,
    STOPWORDS,
    YEAR,
    content_tokens,
    derived,
    fold,
    framed_sentences,
    is_noun,
    key_terms,
    may_be_noun,
    name_spans,
    names,
    numbers,
    only_verb,
    plural,
    range_bounds,
    stem,
    term_in,
    tokenize,
    words,
)

MIN_WORDS = 4
# A sentence that points back ("He…", "In it…", "By then…") is read with the one before it.
POINTS_BACK = re.compile(
    r"(?:(?:in|of|for|from|on|at|by|with|after|under|since|during) )?"
    r"(?:he|she|it|they|this|these|those|the same|both|then|its|their)\b",
    re.I,
)
# "Lagos then asked…", "The board later…": an event placed after the one before it.
GOES_ON = re.compile(r"^\W*(?:the\s+)?[\w'’-]+\s+(?:then|later|thereafter|subsequently)\b", re.I)
# "The vote was 13 in favour…" after a sentence on a resolution: a definite common noun opening a sentence speaks of
# something the text has already brought in, even in other words (dev: +14 −3 items, second corpus +1).
BRIDGING = re.compile(r"^The\s+[a-z]")
# "The declaration was signed…" after a sentence on a declaration: a common noun named again with "the".
DEFINITE = re.compile(r"the\s+([a-z][\w-]*)(?:\s+([a-z][\w-]*))?")
# Capitalised words (with "of", "for"… between) ending just before "(ACRONYM)"; {} is the escaped acronym.
LONG_FORM = r"(?:[A-Z][\w'’-]*\s+(?:(?:of|for|de|du|des|the|and|in|la|le|pour)\s+)*)+(?=\((?i:{})\))"
# The forms whose answer gathers several sentences, where one that names nothing crowds out one that does.
GATHERED_FORMS = (Form.LIST, Form.EXPLAIN)
# The words after a number name what it counts, up to the verb ("143 vehicles carrying …" → "143 vehicles").
VERB_ENDING = re.compile(r"(?:ed|ing)$")
UNIT = re.compile(r"\s+((?:[a-z][\w-]*\s+){0,2}[a-z][\w-]*)")
# "of the mission's 13…" after a number: a share of the number that follows, which names what both count.
PARTITIVE = re.compile(r"\s+of\s+(?:(?:the|its|their|his|her)\s+)?(?:[\w-]+['’]s\s+)?(?=\d)")
# A letter and hyphen ("X-7"), or a word, just before a number: what may name it.
NAMED_BY = re.compile(r"(?:[A-Za-z]-|\b([A-Za-z]+)\s+)$")
# "Who was the last head…", "the latest figure": the most recent of the answers the documents give.
LATEST = re.compile(r"\b(?:last|latest|final|most recent|current|currently|now|today)\b", re.I)
# A common noun just before a value, or linked to it ("resolution 2690", "the camp at Lagos"), or just after it
# ("the Lagos camp"): the kind of thing the value names.
KIND_BEFORE = re.compile(r"\b([a-z][a-z-]+)\s+(?:(?:at|of|in)\s+)?$")
KIND_AFTER = re.compile(r"\s+([a-z][a-z-]+)\b")
# Any stretch of text, matched between two positions: a value read with its kind.
SPAN = re.compile(r"[\s\S]+")
# "Lagos and Accra": two names a run of capitalised words joins.
AND = re.compile(r"\s+and\s+")
# "League of Coastal Towns": the head noun of a name comes before "of".
OF = re.compile(r"\s+of\s+", re.I)
# "in Lagos", "from Ghana", "at the Lagos port": a name set in a place phrase names where, not who; so does each
# name of a list the phrase opens ("from Ghana, Togo and Benin").
PLACE = r"\b(?i:in|at|near|from|across|into|outside|inside|around|towards?)\s+(?:the\s+)?"
LISTED = r"(?:[A-Z][\w'’-]*(?:\s+[A-Z][\w'’-]*)*(?:\s*,\s*(?:and\s+|or\s+)?|\s+(?:and|or)\s+))"
PLACED = re.compile(rf"{PLACE}$")
# Not an opening phrase ("In Lagos, Ann Lee and Bo Kim…"): the list follows a word of the clause.
PLACED_IN_LIST = re.compile(rf"(?<=\w\s){PLACE}{LISTED}+$")
# What ends a list item before the next: ", Togo", " and Benin".
NEXT_ITEM = re.compile(r"\s*,\s*(?:and\s+|or\s+)?[A-Z]|\s+(?:and|or)\s+[A-Z]")
# "…, Togo and Benin": the list's last item.
LAST_ITEM = re.compile(r"\b(?:and|or)\s+$")
# "the Lagos camp": a name before a common noun, after a determiner, names a thing of that kind.
MODIFIER_BEFORE = re.compile(r"\b(?:the|a|an|its|their|his|her)\s+$", re.I)
# "the first force commander", "its last convoy": a thing picked out by its place in an order.
ORDERED = re.compile(
    r"\b(first|second|third|fourth|fifth|sixth|seventh|eighth|ninth|tenth|last)"
    r"((?:\s+[A-Za-z][\w-]*){1,3})",
    re.I,
)
# A closing aside in brackets: what a follow-up refers to ("Who took it over? (Lagos camp)"), or a remark.
ASIDE = re.compile(r"\s\(([^()]*)\)\s*$")
# The words that scale an amount ("5 million").
SCALE_WORDS = "thousand|million|billion|trillion"
# An amount of money: a currency before the figure ("$5", "US$ 5") or after it ("5 million US dollars", "5 euros").
MONEY_BEFORE = re.compile(r"(?:[$€£¥]|\b(?:USD|EUR|GBP))\s*$")
MONEY_AFTER = re.compile(
    rf"\s*(?:(?:{SCALE_WORDS}|bn|m)\b\s*)?(?:US\s+|U\.S\.\s+)?"
    r"(?:dollars?|euros?|pounds?|francs?|yen|USD|EUR|GBP)\b",
    re.I,
)
# A number that is a share ("41 per cent", "88.8%"): no answer to "how many".
SHARE = re.compile(r"\s*(?:%|per\s*cent|percent)", re.I)
# The day of a date ("14 May 2015"), not part of a year range ("2014/15").
DAY = re.compile(r"(?<![\d/–-])\d{1,2}(?![\d/–-])")
# A line that asks, or opens as a question does ("How many people served and what it all cost."), announces
# what its document covers; it answers nothing.
ASKS = re.compile(r"^\W*(?:how|what|which|who|whom|whose|why|whether)\b|\?\W*$", re.I)
# Instructions planted in a document are not evidence (OWASP LLM01): never quoted, never sent to a model.
PLANTED = re.compile(
    r"ignore (?:all |any |the )?(?:previous|prior|above|your)|system prompt|disregard (?:all |the )?previous",
    re.I,
)


def before_aside(query: str) -> str:
    """The question without the closing aside a follow-up carries from the earlier turn."""
    aside = ASIDE.search(query)
    return query[: aside.start()] if aside else query


def spans(form: Form, text: str, question: str) -> list[re.Match[str]]:
    """The values of the wanted kind in a sentence that the question does not already hold."""
    if form is Form.DATE:
        found = [m for m in DATE.finditer(text) if not ASKS_DAY.search(question) or DAY.search(m.group())]
        # "On what day in 2016…" is not answered by a day of another year.
        years = set(YEAR.findall(question)) if ASKS_DAY.search(question) else set()
        if years:
            found = [m for m in found if not YEAR.findall(m.group()) or years & set(YEAR.findall(m.group()))]
    elif form is Form.NUMBER:
        # A count is not a year, nor the day of a date ("left Accra on 23 October"), nor, for "how many", a share.
        found = [m for m in _undated_numbers(text) if not _identifier(text, m)]
        if counted_nouns(question):
            found = [m for m in found if not SHARE.match(text, m.end())]
        if ASKS_MONEY.search(question):
            found = [
                m
                for m in found
                if MONEY_BEFORE.search(text, 0, m.start()) or MONEY_AFTER.match(text, m.end())
            ]
    elif form is Form.WHO:
        # A month is capitalised but names no one; a name headed by one the question gives is its subject, not the
        # answer ("General Ann Lee of Ghana" to "Who succeeded Ann Lee?"; "Prefect of Accra" may answer on Accra).
        given = [set(words(n)) for n in names(question) if len(n) > 3]
        found = [
            m
            for m in name_spans(text)
            if (" " in m.group() or len(m.group()) > 3 or (len(m.group()) == 3 and m.group().isupper()))
            and not DATE.fullmatch(m.group())
            and not any(n <= set(words(m.group().split(" of ")[0])) for n in given)
        ]
    elif form is Form.FACT and acronym_asked(question):
        # The long form written just before the acronym in brackets: "the North Atlantic Treaty Organization (NATO)".
        return list(re.finditer(LONG_FORM.format(re.escape(str(acronym_asked(question)))), text))
    elif form is Form.FACT and (kinds := asked_kinds(question)):
        found = _of_kind(text, kinds)
    else:
        return []
    asked, figures = fold(question), numbers(question)
    # "10,500" is what "10500" asked already says, and "1,425" what a round "like 1400" did.
    return [
        m
        for m in found
        if fold(m.group()) not in asked and not any(_rounds_to(m.group(), f) for f in figures)
    ]


def _rounds_to(value: str, figure: str) -> bool:
    """The value is the figure, or rounds to it when the figure is round and no year ("1,425" → "1400")."""
    value = value.replace(",", "")
    if value == figure:
        return True
    zeros = len(figure) - len(figure.rstrip("0"))
    if zeros < 2 or YEAR.fullmatch(figure) or not value.isdigit() or not figure.isdigit():
        return False
    return round(int(value), -zeros) == int(figure)


# A source named beside what it states: "X calls it…", "according to X".
ATTRIBUTES = re.compile(
    r"\s+(?:calls?|called|says?|said|reports?|reported|writes?|wrote|gives?|gave|puts?|counts?|lists?|quotes?|"
    r"quoted|cites?|cited)\b"
)
# "according to X", "according to the Portuguese news agency X": up to three words may describe the source.
ACCORDING = re.compile(r"\baccording to\s+(?:(?:the|an?)\s+)?(?:[\w'-]+\s+){0,3}$", re.I)
# A name glued to a web domain's ending ("Bamada.net") names a website.
DOMAIN = re.compile(r"\.[a-z]{2,6}\b")
# An acronym in the plural ("IEDs", "NGOs") names a kind of thing, not someone.
PLURAL_ACRONYM = re.compile(r"[A-Z]{2,}s")


def _names_a_place_or_thing(text: str, name: re.Match[str]) -> bool:
    """The name says where ("from Ghana") or what kind of thing ("the Lagos camp", "Ledger.com", "IEDs"): no "who"."""
    if (
        PLACED.search(text, 0, name.start())
        or DOMAIN.match(text, name.end())
        or PLURAL_ACRONYM.fullmatch(name.group())
    ):
        return True
    # A list item: another item follows it, it is the last one, after "and", or it holds the last two ("Guinea
    # and Nepal" after "Egypt, ").
    listed = (
        NEXT_ITEM.match(text, name.end())
        or LAST_ITEM.search(text, 0, name.start())
        or (AND.search(name.group()) and text[: name.start()].rstrip().endswith(","))
    )
    if listed and PLACED_IN_LIST.search(text, 0, name.start()):
        return True
    after = KIND_AFTER.match(text, name.end())
    return (
        MODIFIER_BEFORE.search(text, 0, name.start()) is not None
        and after is not None
        and after.group(1) not in STOPWORDS
        and may_be_noun(after.group(1))
    )


def _whole_dates(text: str) -> list[set[str]]:
    """The tokens of each date of the text told in more than a year ("30 June 2017", "June 2017")."""
    return [found for m in DATE.finditer(text) if len(found := set(tokenize(m.group()))) > 1]


def _ordered(text: str) -> dict[str, set[str]]:
    """For each kind of thing the text picks out by its place in an order, those places: {"commander": {"first"}}."""
    found: dict[str, set[str]] = {}
    for match in ORDERED.finditer(text):
        head = ""
        for n, word in enumerate(match.group(2).split()):
            # A name after the kind starts what is said of it ("the last convoy left Ménaka").
            if (
                word.lower() in STOPWORDS
                or not may_be_noun(word)
                or only_verb(word)
                or (n and word[0].isupper())
            ):
                break
            head = word
        if head:
            found.setdefault(stem(fold(head)), set()).add(match.group(1).lower())
    return found


def _of_kind(text: str, kinds: frozenset[str]) -> list[re.Match[str]]:
    """Names and numbers the text gives as things of an asked kind: "resolution 2690", "the Lagos camp", "camp at Lagos"."""
    return [match for kind, match in kinded(text) if kind in kinds]


def kinded(text: str, *, numbered: bool = True) -> list[tuple[str, re.Match[str]]]:
    """Each name (and number) the text gives as a thing of a kind, with the kind's stem: ("camp", "camp at Lagos").

    The kind is a common noun next to the value; a number is matched with it ("resolution 2690", not "2690").
    """
    found = []
    figures = [*_undated_numbers(text), *ORDINAL_FIGURE.finditer(text)] if numbered else []
    for value in [*name_spans(text), *figures]:
        # "S" names nothing; an owner ("the Board's report") is not the thing owned.
        if len(value.group()) < 2 or value.group().endswith(("'s", "’s")):
            continue
        before = KIND_BEFORE.search(text, 0, value.start())
        after = KIND_AFTER.match(text, value.end())
        number = value.group()[0].isdigit()
        # Only a noun names a kind: "closed Lagos" says what was done to Lagos, not what it is.
        if before and before.group(1) not in STOPWORDS and may_be_noun(before.group(1)):
            start = before.start() if number else value.start()
            found.append((stem(fold(before.group(1))), SPAN.match(text, start, value.end())))
        # A number before a plural counts things of the kind ("13 sites"); it names none of them.
        if (
            after
            and after.group(1) not in STOPWORDS
            and may_be_noun(after.group(1))
            and not (number and plural(after.group(1)))
        ):
            # A number is told with its kind ("the 9365th meeting"); a name is enough by itself ("the Lagos camp").
            end = after.end() if number else value.end()
            found.append((stem(fold(after.group(1))), SPAN.match(text, value.start(), end)))
    return [(kind, m) for kind, m in found if m]


def _undated_numbers(text: str) -> list[re.Match[str]]:
    """The numbers of a text that are no part of a date."""
    dates = [d.span() for d in DATE.finditer(text)]
    return [m for m in NUMBER.finditer(text) if not any(a <= m.start() < b for a, b in dates)]


def _identifier(text: str, number: re.Match[str]) -> bool:
    """The number names something rather than counting it: "X-7", "law 2295", "bus 109" (not "over ten years 311")."""
    before = NAMED_BY.search(text, 0, number.start())
    if before is None:
        return False
    word = before.group(1)
    return word is None or (
        word.lower() not in STOPWORDS
        and not counted(text, number.end())
        and is_noun(word)
        and not plural(word)
    )


def counted(text: str, end: int) -> list[str]:
    """The words after a number (ending at `end`) that name what it counts; "10 of its 13 sites" counts sites."""
    share = PARTITIVE.match(text, end)
    whole = NUMBER.match(text, share.end()) if share else None
    if whole:
        return counted(text, whole.end())
    unit = UNIT.match(text[end:])
    kept: list[str] = []
    said = unit.group(1).split() if unit else []
    for i, word in enumerate(said):
        # A word before an article is a verb taking its object ("109 hit a lorry"), not what the number counts.
        verb = i + 1 < len(said) and said[i + 1] in ARTICLES
        if word in STOPWORDS or VERB_ENDING.search(word) or verb or len(kept) == 2:
            break
        kept.append(word)
    return kept


def counts(
    unit: list[str], asked: list[str], *, every: bool = False, alike: Callable[[str, str], bool] | None = None
) -> bool:
    """A number counts what was asked: it names no unit, or one (or every) of the asked words (or one `alike`)."""
    found = [term_in(word, " ".join(unit)) or any(alike and alike(word, u) for u in unit) for word in asked]
    return not unit or (all(found) if every else any(found))


def _head_nouns(query: str) -> list[tuple[re.Pattern[str], set[str]]]:
    """For each name of several words in the question, "the" + its head noun, and the name's words.

    "The league was founded…" speaks of the League of Coastal Towns; "the council" of the City Council.
    """
    return [
        (re.compile(rf"\bthe {re.escape(OF.split(name)[0].split()[-1])}\b", re.I), set(tokenize(name)))
        for name in names(query)
        if " " in name
    ]


def _named_again(text: str, heads: list[tuple[re.Pattern[str], set[str]]]) -> set[str]:
    """The words of each name that the text says again by its head noun after "the"."""
    return {t for head, said in heads if head.search(text) for t in said}


def _of_other_years(text: str, years: set[str]) -> bool:
    """The text is dated, and only by years other than those asked: "2017: 21 were killed" to a question on 2022."""
    if not years:
        return False
    said = set(YEAR.findall(text))
    return bool(said) and not said & years


def _continues(sentence: str, previous: str) -> bool:
    """The sentence refers to the one before: a pronoun, a definite common noun, or the same thing named again."""
    if POINTS_BACK.match(sentence) or GOES_ON.match(sentence) or BRIDGING.match(sentence):
        return True
    again = DEFINITE.match(sentence.lower())
    said = set(tokenize(previous))
    return again is not None and any(w and stem(w) in said for w in again.groups() if w not in STOPWORDS)


class _Row(NamedTuple):
    """A sentence to score: its text (with the one before it, when it goes on from it) and where it stands."""

    text: str
    passage: int
    position: int
    heading: str
    start: int
    frame: str
    item: bool
    line: int


class Evidence:
    """Scores sentences by meaning and by the question's rare words, with the corpus's statistics."""

    def __init__(
        self,
        embeddings: Embeddings,
        vocabulary: Vocabulary,
        policy: Policy,
        vectors: SentenceVectors | None = None,
    ) -> None:
        self.embeddings = embeddings
        self.vocabulary = vocabulary
        self.policy = policy
        self._sentence_vectors = vectors or SentenceVectors(embeddings)

    def weights(self, text: str) -> dict[str, float]:
        """The question's content tokens, typos corrected, each weighted by its rarity (IDF); an aside's weigh less."""
        weights: dict[str, float] = {}
        aside = ASIDE.search(text)
        own = set(content_tokens(text[: aside.start()])) if aside else None
        for token in content_tokens(text):
            share = 1.0 if own is None or token in own else self.policy.aside_weight
            token = self.vocabulary.correct(token, self.policy.typo_min_ratio)
            weights[token] = max(weights.get(token, 0.0), share * self.vocabulary.idf(token))
        return weights

    def key_terms(self, text: str) -> set[str]:
        """The question's names and numbers that are not generic in this corpus, nor the bounds of a span of years."""
        terms = key_terms(text) - range_bounds(text)
        # Every sentence opens on a capital: a lone name there names something only if the corpus says so
        # ("Soldiers from which country…").
        # Sentences are read here too: the cheap tests first, `names` last.
        first = next(iter(text.split()), "")
        if fold(first) in terms and not self.vocabulary.names_something(first) and first in names(text):
            terms.discard(fold(first))
        return {t for t in terms if not any(self._generic(s) for s in tokenize(t))}

    def subjects(self, text: str) -> frozenset[str]:
        """What the question names, each name whole ("Lagos", "Bank of Ghana") and each number, beyond the generic.

        "Lagos and Accra" are two; a single capitalised word names something only if the corpus says so ("Troops…").
        """
        found = {
            part
            for name in names(text)
            for part in AND.split(name)
            if part not in MONTHS
            and not self.is_generic(part)
            and (" " in part or self.vocabulary.names_something(part))
        }
        return frozenset(found | (numbers(text) - range_bounds(text)))

    def values(self, form: Form, text: str, question: str) -> list[re.Match[str]]:
        """The values of the wanted kind in a sentence, beyond the question's; a generic name, a place or a thing
        answers no "who" ("whose troops…" may be answered by a country)."""
        found = spans(form, text, question)
        if form is not Form.WHO:
            return found
        # "X calls it…", "according to X": X is where a statement comes from, which only "who said…" asks for.
        sourced = not ASKS_SOURCE.search(question)
        owner = bool(ASKS_OWNER.search(question))
        return [
            m
            for m in self._names(text, question)
            if (owner or not _names_a_place_or_thing(text, m))
            and not (sourced and (ATTRIBUTES.match(text, m.end()) or ACCORDING.search(text, 0, m.start())))
        ]

    def identifies(self, text: str, question: str) -> bool:
        """The text names or numbers something the question does not ("which law…" → "law 2100")."""
        figures = {m.group().replace(",", "") for m in _undated_numbers(text)}
        return bool(self._names(text, question) or figures - numbers(question))

    def _names(self, text: str, question: str) -> list[re.Match[str]]:
        """The names in a sentence beyond the question's, generic ones left out."""
        return [m for m in spans(Form.WHO, text, question) if not self.is_generic(m.group())]

    def names_another(self, question: str, text: str) -> bool:
        """The text gives the thing of a kind the question names as another one ("its camp at Sévaré" to "When did it
        close its camp at Kumasi?", "the first force commander" to "Who was the last force commander?"): it speaks
        of a neighbour of what was asked."""
        asked, said = self._named_kinds(question), self._named_kinds(text)
        if any(kind in said and not said[kind] & values for kind, values in asked.items()):
            return True
        places, told = _ordered(question), _ordered(text)
        return any(kind in told and not told[kind] & order for kind, order in places.items())

    def _named_kinds(self, text: str) -> dict[str, set[str]]:
        """For each kind the text names a thing of, the words of those names; dates and generic names set aside."""
        found: dict[str, set[str]] = {}
        for kind, match in kinded(text, numbered=False):
            name = match.group()
            if fold(name) not in FOLDED_MONTHS and not DATE.fullmatch(name) and not self.is_generic(name):
                found.setdefault(kind, set()).update(tokenize(name))
        return found

    def counting(self, form: Form, text: str, question: str) -> list[re.Match[str]]:
        """The values of the wanted kind; for "how many X", only the numbers that count X (or name no unit)."""
        found = self.values(form, text, question)
        asked = counted_nouns(question) if form is Form.NUMBER else []
        # "How many people" counts persons of any kind: troops, staff, the dead.
        if not asked or asked[0] in ANY_PERSON:
            return found
        # "How many Ghanaian nurses": a name among the counted words must name the count too; 300 nurses from
        # four countries do not answer it.
        named = [w for w in asked if w in self.key_terms(question)]
        wanted = {m.span() for m in found}
        kept: list[re.Match[str]] = []
        unit: list[str] = []
        for m in NUMBER.finditer(text):
            # "1,200 workers against the 1,500 authorized": a figure with no unit counts what the one before did.
            unit = counted(text, m.end()) or unit
            if (
                m.span() in wanted
                and counts(unit, asked, alike=self._alike)
                and counts(unit, named, every=True)
            ):
                kept.append(m)
        return kept

    def _alike(self, word: str, other: str) -> bool:
        """Two words name the same kind of thing ("soldiers", "troops"): their cosine reaches the policy's floor."""
        vectors = self._sentence_vectors([word, other])
        return float(vectors[0] @ vectors[1]) >= self.policy.unit_synonym_min

    def is_generic(self, name: str) -> bool:
        """Every word of the name is generic in this corpus (what the corpus is about): it singles out nothing."""
        stems = tokenize(name)
        return bool(stems) and all(self._generic(s) for s in stems)

    def _generic(self, token: str) -> bool:
        """In more chunks than the policy's share, or derived from such a name (a demonym of a generic country)."""
        if self.vocabulary.share(token) > self.policy.generic_df:
            return True
        return any(
            derived(token, token[:cut]) and self.vocabulary.share(token[:cut]) > self.policy.generic_df
            for cut in range(DERIVED_MIN_BASE, len(token))
        )

    def rank(self, query: str, form: Form, passages: list[Passage]) -> list[Sentence]:
        """Every sentence of the passages, best first; a passage lacking one of the question's names costs its sentences."""
        rows: list[_Row] = []
        for n, passage in enumerate(passages, 1):
            heading = str(passage.metadata.get("section") or passage.metadata.get("title") or "")
            lines = framed_sentences(passage.text, self.vocabulary.is_boilerplate)
            # A line of three words or fewer ("The northern convoy.") names a topic; it states nothing.
            kept = [
                line
                for line in lines
                if not PLANTED.search(line.text)
                and not ASKS.search(line.text)
                and len(ADDRESS.sub(" ", line.text).split()) >= MIN_WORDS
                and not self.vocabulary.is_self_reference(line.text)
            ]
            for i, line in enumerate(kept):
                before = kept[i - 1].text if i and _continues(line.text, kept[i - 1].text) else ""
                # A list item's lead-in frames it as the section heading does.
                rows.append(
                    _Row(
                        f"{before} {line.text}".strip(),
                        n,
                        i,
                        f"{heading} {line.frame}".strip(),
                        i - 1 if before else i,
                        line.frame,
                        line.item,
                        line.line,
                    )
                )
        if not rows:
            return []
        headed = self._sentence_vectors([f"{row.heading}: {row.text}" for row in rows])
        bare = self._sentence_vectors([row.text for row in rows])
        # A sentence that leans on the one before it ("Chad was the largest contributor." after a table) is also read
        # with it; a list item is read with its lead-in instead, and a list question wants each item on its own.
        joined = {
            k: f"{rows[k - 1].text} {row.text}"
            for k, row in enumerate(rows)
            if k and rows[k - 1].passage == row.passage and not row.item and form is not Form.LIST
        }
        after_previous = dict(zip(joined, self._sentence_vectors(list(joined.values())))) if joined else {}
        query_vector = np.asarray(self.embeddings.embed_query(query))
        # A list question is answered by the items of a list whose lead-in says what it asks ("The largest
        # contributors were:"): each item is read as its lead-in says it, in meaning and in words.
        # A list straight under a heading, with no lead-in line, is led in by its heading ("Board members").
        rows = [row._replace(frame=row.heading) if row.item and not row.frame else row for row in rows]
        frames = sorted({row.frame for row in rows if row.frame}) if form is Form.LIST else []
        lead = dict(zip(frames, (self._sentence_vectors(frames) @ query_vector).tolist())) if frames else {}
        weights = self.weights(query)
        total = sum(weights.values())
        terms = self.key_terms(query)
        if form is Form.EXPLAIN and presupposes(query):
            # "Why did the bridge open on time in May 1998?" takes its figures as given, and they may be what is
            # false: a passage that gives other ones is not set aside for lacking them.
            terms = {t for t in terms if not t[0].isdigit() and t not in FOLDED_MONTHS}
        # The closing aside names what a follow-up refers to, often several ways ("League Under-Secretary for
        # Operational Support Ann Lee"): a passage naming it by any of its names lacks nothing of it.
        context = self._referent(query)
        terms -= context
        texts = {n: self.full_text(p) for n, p in enumerate(passages, 1)}
        gaps = {
            n: sum(not term_in(t, text) for t in terms)
            + int(bool(context) and not any(term_in(t, text) for t in context))
            for n, text in texts.items()
        }
        scored = []
        heads = _head_nouns(query)
        stand_ins = self._stand_ins(query, weights, [row.text for row in rows])
        dates = _whole_dates(query)
        for k, ((text, n, i, heading, start, frame, item, on_line), with_heading, alone) in enumerate(
            zip(rows, headed, bare)
        ):
            tokens, heading_tokens = set(tokenize(self.with_aliases(text))), set(tokenize(heading))
            tokens |= _named_again(text, heads)
            # "30 June 2017" is said by that date, not by "In 2017 … until 30 June 2018".
            said = _whole_dates(text)
            for date in dates:
                if not any(date <= other for other in said):
                    tokens -= date
            if frame in lead:
                tokens |= set(tokenize(frame))
            # A word of the section heading frames the sentence but is not what it states: it counts half.
            found = sum(
                w if t in tokens else w / 2 if t in heading_tokens else 0.0 for t, w in weights.items()
            )
            overlap = found / total if total else 0.0
            # A word the corpus never uses counts by the sentence's closest word, in the ranking only: the gate
            # was calibrated on words matched by their letters.
            missing = [t for t in stand_ins if t not in tokens and t not in heading_tokens]
            soft = sum(weights[t] * stand_ins[t].get(text, 0.0) for t in missing) / total if total else 0.0
            # The heading helps a sentence that leaves its subject to it, and dilutes one that does not.
            dense = max(
                float(np.dot(query_vector, with_heading)),
                float(np.dot(query_vector, alone)),
                lead.get(frame, 0.0),
                float(np.dot(query_vector, after_previous[k])) if k in after_previous else 0.0,
            )
            score = (1 - self.policy.overlap_weight) * dense + self.policy.overlap_weight * (overlap + soft)
            if self.values(form, text, query):
                score += self.policy.answer_type_bonus
            if form in GATHERED_FORMS and not self.key_terms(text):
                score -= self.policy.vague_penalty  # no name, date or figure of its own: says little
            scored.append(Sentence(text, n, i, score, start, dense, overlap, item, on_line))
        # "the last…" and "in 2022" are asked by the question itself, not by the earlier words its closing aside
        # carries ("When was he made president? (… junta … 2020)" asks of no year).
        own = before_aside(query)
        years = set(YEAR.findall(own)) - range_bounds(own)
        ranked = sorted(
            scored,
            key=lambda s: (
                self.policy.name_gap_penalty * gaps[s.passage]
                + self.policy.other_year_penalty * _of_other_years(s.text, years)
                - s.score
            ),
        )
        return _latest_first(ranked, self.policy.disagreement_ratio) if LATEST.search(own) else ranked

    def _stand_ins(
        self, query: str, weights: dict[str, float], texts: list[str]
    ) -> dict[str, dict[str, float]]:
        """For each question word the corpus never uses, each text's closest word's cosine, where close ("boss" ~ "head").

        Such a word matches no sentence by its letters; by meaning it may. Words the corpus uses are left to their
        letters: giving every missing word this credit churned dev (+5 −4 items) and made a cold question 1.5×
        slower, since every word of the candidate sentences has to be embedded.
        """
        # A name or a date stands for itself: "Paris" is not "Lyon", nor "November" "August", however close.
        named = {s for term in key_terms(query) for s in tokenize(term)}
        asked = [
            t
            for t in weights
            if not t.isdigit()
            and t not in named
            and t not in FOLDED_MONTHS
            and not self.vocabulary.frequencies.get(t)
        ]
        if not asked:
            return {}
        floor = self.policy.stand_in_min_similarity
        by_text = dict(zip(texts, self._closeness(query, asked, texts)))
        return {t: {text: c[t] for text, c in by_text.items() if c[t] >= floor} for t in asked}

    def coverage(self, query: str, text: str, *, soft: bool = False, unnamed: bool = False) -> float:
        """IDF-weighted share of the question's content tokens that a text holds.

        With soft, a missing word counts by the cosine of its closest word in the text ("boss" ~ "head").
        With unnamed, only the words outside the question's names and numbers count: what it asks of them.
        """
        weights = self.weights(query)
        if unnamed:
            named = {s for term in key_terms(query) for s in tokenize(term)}
            weights = {t: w for t, w in weights.items() if t not in named}
        total = sum(weights.values())
        if not total:
            return 1.0
        present = set(tokenize(text))
        missing = [t for t, w in weights.items() if t not in present and w]
        closeness = self._closeness(query, missing, [text])[0] if soft else {}
        return sum(w * (1.0 if t in present else closeness.get(t, 0.0)) for t, w in weights.items()) / total

    def _referent(self, query: str) -> set[str]:
        """The names a follow-up's closing aside gives its referent, beyond the question's own; its dates and figures
        ("(jul 2013-jun 2014)") are what is asked, not names of the referent."""
        aside = ASIDE.search(query)
        if aside is None:
            return set()
        named = self.key_terms(aside.group(1)) - self.key_terms(query[: aside.start()])
        return {t for t in named if not t[0].isdigit() and t not in FOLDED_MONTHS}

    def mentions(self, question: str, nouns: frozenset[str], text: str) -> float:
        """How closely the text names any of the question's nouns: 1 where it holds one, else its closest word's cosine."""
        if not nouns:
            return 1.0
        if nouns & set(tokenize(text)):
            return 1.0
        return max(self._closeness(question, sorted(nouns), [text])[0].values())

    def _closeness(self, query: str, tokens: list[str], texts: list[str]) -> list[dict[str, float]]:
        """For each text, each of the question's tokens' cosine to the text's closest word (0 if none)."""
        if not tokens:
            return [{} for _ in texts]
        by_stem = {stem(w): w for w in words(query)}
        asked = self._sentence_vectors([by_stem.get(t, t) for t in tokens])  # once, not once per text
        found = []
        for text in texts:
            others = sorted({w for w in words(text) if w not in STOPWORDS and not w.isdigit()})
            best = (
                np.max(asked @ self._sentence_vectors(others).T, axis=1) if others else np.zeros(len(tokens))
            )
            found.append(dict(zip(tokens, best.tolist())))
        return found

    def full_text(self, passage: Passage) -> str:
        """A passage with its title, section heading and named origin ("according to AFP"), and its abbreviations' long forms."""
        meta = passage.metadata
        return self.with_aliases(
            f"{meta.get('title', '')} {dateline(meta)} {meta.get('section', '')} "
            f"{meta.get('origin', '')} {passage.text}"
        )

    def with_aliases(self, text: str) -> str:
        """The text, then the other name of each abbreviation or long form it uses ("WHO": "World Health Organization")."""
        return f"{text} {self.vocabulary.aliases_in(text)}"

    def repeats(self, text: str, others: list[str], min_similarity: float) -> bool:
        """The text says again what one of the others says (their cached sentence embeddings this close)."""
        if not others:
            return False
        vectors = self._sentence_vectors([text, *others])
        return bool(np.max(vectors[1:] @ vectors[0]) >= min_similarity)

    def similarity(self, text: str, others: list[str]) -> float:
        """The best cosine between a text and any of the others."""
        if not others:
            return 0.0
        vector = np.asarray(self.embeddings.embed_query(text))
        return float(np.max(self._sentence_vectors(others) @ vector))


def dateline(meta: dict[str, Any]) -> str:
    """A news report's date as its text would write it ("8 December 2023"): the day its "on Friday" and "this week"
    refer to. A report's date is when it was written, not when what it tells happened: ""."""
    if meta.get("kind") != "news":
        return ""
    try:
        day = datetime.date.fromisoformat(str(meta.get("date", "")))
    except ValueError:
        return ""
    return f"{day.day} {day:%B %Y}"


def _latest_first(ranked: list[Sentence], ratio: float) -> list[Sentence]:
    """For "the last…", the sentence scoring within `ratio` of the best that gives the latest year comes first."""
    close = [s for s in ranked[:8] if s.score >= ratio * ranked[0].score and YEAR.search(s.text)]
    if not close:
        return ranked
    latest = max(close, key=lambda s: max(int(y) for y in YEAR.findall(s.text)))
    return [latest, *(s for s in ranked if s is not latest)]


def rerank(
    passages: list[Passage], ranked: list[Sentence], top_k: int
) -> tuple[list[Passage], list[Sentence]]:
    """The top_k passages ordered by their best sentence, renumbered 1..k, with their sentences."""
    order: list[int] = []
    for sentence in ranked:
        if sentence.passage not in order:
            order.append(sentence.passage)
    order += [n for n in range(1, len(passages) + 1) if n not in order]
    kept = order[:top_k]
    number = {old: new for new, old in enumerate(kept, 1)}
    return [passages[old - 1] for old in kept], [
        replace(s, passage=number[s.passage]) for s in ranked if s.passage in number
    ]
