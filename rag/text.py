"""Text utilities shared by retrieval and answers: one tokenizer, one sentence splitter, names and numbers."""

from __future__ import annotations

import re
import threading
import unicodedata
from collections.abc import Callable, Iterable
from functools import lru_cache
from typing import NamedTuple

import pysbd
import snowballstemmer
from abbreviation_extractor import extract_abbreviation_definition_pairs_parallel
from lemminflect import getAllLemmas
from rapidfuzz import fuzz, process
from rapidfuzz.distance import OSA

# English function words: they shape a sentence but say nothing about what it is about.
STOPWORDS = frozenset(
    "a an the of in on at to for from by with and or but not no nor is are was were be been being am "
    "what which who whom whose when where why how whether did do does doing done has have had having it its "
    "this that these those as into onto about than then there here their theirs they them he she his her hers "
    "him i you your yours we our ours me my mine us can could would should will shall may might must also "
    "so too very just any all some each every such only own same other both either neither if because while "
    "during before after since until up down out over under again further once".split()
)
# Words that shape a question ("how many", "tell me") without naming what it asks about.
QUESTION_WORDS = frozenset(
    "many much long often far tell name list give describe explain know happen happened say said please "
    "summarize summarise summary stand stands mean means meaning acronym abbreviation".split()
)
# Chat shorthand for common English words ("how many ppl r there", "b4 2020"), lowercase as typed: no corpus's
# words, no names; a capital ("R", "U") is left alone, as it may name something, and so is a part of a web address
# ("gov.uk"). "bc" is not read as "because": "300 bc" is a date.
SHORTHAND = {
    "ppl": "people",
    "govt": "government",
    "gov": "government",
    "yr": "year",
    "yrs": "years",
    "b4": "before",
    "cuz": "because",
    "coz": "because",
    "abt": "about",
    "u": "you",
    "ur": "your",
    "r": "are",
    "n": "and",
    "w/": "with",
    "w/o": "without",
    "pls": "please",
    "plz": "please",
    "thx": "thanks",
    "prez": "president",
    "approx": "approximately",
    "avg": "average",
    "intl": "international",
    "dept": "department",
    "mgmt": "management",
    # Chat interjections say nothing the documents could hold: read as a word, "lol" is the rarest word asked.
    **dict.fromkeys(("lol", "lmao", "rofl", "haha", "btw", "tbh", "imo", "imho", "fyi", "omg"), ""),
}
SHORTHAND_WORD = re.compile(
    r"(?<![\w/'’.])("
    + "|".join(map(re.escape, sorted(SHORTHAND, key=len, reverse=True)))
    + r")(?![\w/'’]|\.\w)"
)
UNSAFE_CHARS = re.compile("[\x00-\x08\x0b-\x1f\x7f\u200e\u200f\u202a-\u202e\u2066-\u2069\ud800-\udfff]")
# A bracketed text of a sentence or more pasted into a message ("[Document 9.md: The first head was …]"); "[sic]" or
# "[1]" stays.
PASTED = re.compile(r"\[\[?[^\[\]]{30,}\]\]?")
# A tag in capitals that frames a pasted block ("[SYSTEM]", "[END TRUSTED DOCUMENT]", "[/INST]"): markup, not words.
TAG = re.compile(r"\[\s*/?[A-Z][A-Z0-9 _/-]{1,40}\]")
MARKDOWN_LINK = re.compile(r"!?\[([^\]]*)\]\([^)]*\)")
# A web address: a line made of them states nothing, and its words are no prose of the corpus.
ADDRESS = re.compile(r"\b(?:https?://|www\.)\S+")
NUMBER = re.compile(r"(?<![\w.])(?:\d{1,3}(?:,\d{3})+|\d+)(?:\.\d+)?(?![\w])")
# An ordinal told in figures names one of a series: "its 8568th meeting".
ORDINAL_FIGURE = re.compile(r"(?<![\w.])(\d+)(?:st|nd|rd|th)\b")
CARDINAL_WORDS = "one two three four five six seven eight nine ten eleven twelve".split()
MONTHS = "January February March April May June July August September October November December".split()
# Month and weekday names as the tokenizer folds them.
FOLDED_MONTHS = frozenset(m.lower() for m in MONTHS)
WEEKDAYS = frozenset("monday tuesday wednesday thursday friday saturday sunday".split())
# A year of the last two centuries: the one way to find one.
YEAR_PATTERN = r"(?:1[89]|20)\d{2}"
YEAR = re.compile(rf"\b{YEAR_PATTERN}\b")
_MONTH = "|".join(MONTHS)
DATE = re.compile(
    rf"\b(?:\d{{1,2}}\s+(?:{_MONTH})(?:\s+\d{{4}})?|(?:{_MONTH})\s+\d{{1,2}}(?:,?\s+\d{{4}})?"
    rf"|(?:{_MONTH})\s+\d{{4}}|(?:{_MONTH})|(?<!/){YEAR_PATTERN}(?:[-–/](?:\d{{4}}|\d{{2}}))?(?![/\d]))\b"
)
# A date with its day, month and year, as the documents write it ("16 August 2023"), each part a group.
FULL_DATE = re.compile(rf"\b(\d{{1,2}})\s+({_MONTH})\s+(\d{{4}})\b")
# A month beside a day or a year: "May" there is the month, not the verb a stopword list drops.
# A span of years: its bounds frame what is asked ("How did it grow from 2013 to 2020?"), any year within answers.
# "2022-2023" is left out: it names a budget or season year as often as it spans.
YEAR_RANGE = re.compile(
    rf"\b(?:from|between)\s+({YEAR_PATTERN})\s+(?:to|and|until|through)\s+"
    rf"(?:(?:the\s+)?(?:end|start|beginning|middle)\s+of\s+|early\s+|mid-?\s*|late\s+)?({YEAR_PATTERN})\b",
    re.I,
)
MONTH_DATED = re.compile(rf"(?<=\d )(?:{_MONTH})\b|\b(?:{_MONTH})(?= \d)")
# A name: a run of capitalised words, allowing "of"/"de"/"al-" inside ("Bank of West African States").
NAME = re.compile(
    r"(?<![\w'’])[A-ZÀ-Ý][\w'’À-ÿ-]*(?:\s+(?:(?:of|de|du|des|la|le|al|el|the|and)\s+)?[A-ZÀ-Ý][\w'’À-ÿ-]*)*"
)
# A bulleted or numbered line of a list.
LIST_ITEM = re.compile(r"^\s*(?:[-*•]|\d{1,3}\.)\s+")
# A list item that opens with a bold label ending in a period ("- **Funding.** The council…").
ITEM_LABEL = re.compile(r"^\s*(?:[-*•]|\d{1,3}\.)\s+\*\*([^*]+?)\.\*\*\s+(?=\S)")
_WORD = re.compile(r"\d[\d,.]*\d|\d|[^\W\d_]+")
# Snowball stemmers and pysbd segmenters keep state while they work: one of each per thread.
_local = threading.local()


def _tools() -> threading.local:
    if not hasattr(_local, "stemmer"):
        _local.stemmer = snowballstemmer.stemmer("english")
        _local.segmenter = pysbd.Segmenter(language="en", clean=False)
    return _local


def fold(text: str) -> str:
    """Lowercase without accents, so "Burkinabè" and "Burkinabe" are one word."""
    if text.isascii():  # nothing to decompose: most text, and the per-character pass below is slow
        return text.lower()
    decomposed = unicodedata.normalize("NFKD", text.lower())
    return "".join(c for c in decomposed if not unicodedata.combining(c))


@lru_cache(maxsize=200_000)
def stem(word: str) -> str:
    """The Snowball (Porter 2) stem of a folded word, an irregular form read as its lemma ("began" → "begin")."""
    return str(_tools().stemmer.stemWord(_regular(word)))


def _regular(word: str) -> str:
    """The lemma of an irregular form with one reading ("began", "men"); the word itself otherwise ("left")."""
    lemmas = {lemma for found in getAllLemmas(word).values() for lemma in found}
    return lemmas.pop() if len(lemmas) == 1 else word


@lru_cache(maxsize=50_000)
def is_noun(word: str) -> bool:
    """The dictionary reads the word only as a noun ("resolution", "tram"), never as a verb or adjective."""
    readings = getAllLemmas(fold(word))
    return bool(readings) and set(readings) <= {"NOUN", "PROPN"}


@lru_cache(maxsize=50_000)
def may_be_noun(word: str) -> bool:
    """The dictionary reads the word as a noun among other readings ("camp", "group"), or does not know it."""
    readings = getAllLemmas(fold(word))
    return not readings or "NOUN" in readings or "PROPN" in readings


def plural(word: str) -> bool:
    """The dictionary reads the word as a plural noun ("sites", "men"), whose lemma differs from it."""
    lemmas = getAllLemmas(fold(word)).get("NOUN", ())
    return bool(lemmas) and fold(word) not in lemmas


def participle(word: str) -> bool:
    """The dictionary reads the word as an inflected verb ("given", "named"), whose lemma differs from it."""
    lemmas = getAllLemmas(fold(word)).get("VERB", ())
    return bool(lemmas) and fold(word) not in lemmas


def may_be_verb(word: str) -> bool:
    """The dictionary reads the word as a verb among other readings ("runs", "claims")."""
    return "VERB" in getAllLemmas(fold(word))


def only_verb(word: str) -> bool:
    """The dictionary reads the word only as a verb ("ended", "did"): it ends a noun phrase."""
    readings = getAllLemmas(fold(word))
    return bool(readings) and set(readings) <= {"VERB", "AUX"}


def _only_modifier(word: str) -> bool:
    """The dictionary reads the word only as an adverb or adjective ("Earlier", "Meanwhile")."""
    readings = getAllLemmas(fold(word))
    return bool(readings) and set(readings) <= {"ADV", "ADJ"}


def read_as_verb_or_modifier(word: str) -> bool:
    """The dictionary reads the word as something other than a noun ("were", "show"), so it is no typo of one."""
    readings = getAllLemmas(fold(word))
    return bool(readings) and not set(readings) <= {"NOUN", "PROPN"}


def words(text: str) -> list[str]:
    """Folded words and numbers, thousands separators dropped."""
    out = []
    for word in _WORD.findall(fold(text)):
        out.append(word.replace(",", "").rstrip(".") if word[0].isdigit() else word)
    return out


def tokenize(text: str) -> list[str]:
    """Stemmed content tokens: the one tokenizer of keyword search, ranking and checks."""
    return [stem(w) for w in _content_words(text) if len(w) > 1 or w.isdigit()]


def content_tokens(text: str) -> list[str]:
    """Tokens of what a question is about: its content words without the words that shape a question."""
    return [stem(w) for w in _content_words(text) if w not in QUESTION_WORDS and (len(w) > 1 or w.isdigit())]


def _content_words(text: str) -> list[str]:
    """Words without function words; "may" stays where the text dates something in May."""
    found = words(text)
    # Only "may" is both a month and a stopword: the text is searched for dated months only when it holds one.
    dated = {fold(m) for m in MONTH_DATED.findall(text)} if "may" in found else set()
    return [w for w in found if w not in STOPWORDS or w in dated]


def clean_input(text: str) -> str:
    """Text without control characters, bidirectional overrides or lone surrogates, which only spoof or break."""
    return UNSAFE_CHARS.sub("", text or "")


def defang(text: str) -> str:
    """Markdown images and links reduced to their words: quoted text can make no request and carry no link."""
    return MARKDOWN_LINK.sub(r"\1", text)


def strip_markup(text: str) -> str:
    """Text without links, images, HTML or a pasted document in brackets, which are never part of what is asked."""
    text = re.sub(r"<(script|style)\b.*?</\1\s*>", " ", text, flags=re.I | re.S)
    # "[Document x.md: …] Using the document above, who…": the answer comes from the documents, not the paste.
    text = TAG.sub(" ", PASTED.sub(" ", text))
    text = defang(text)
    return re.sub(r"<[^>]+>|https?://\S+", " ", text)


def split_sentences(text: str, skip_line: Callable[[str], bool] | None = None) -> list[str]:
    """Sentences, list items and table rows of a passage, in order; lines `skip_line` rejects left out."""
    return [framed.text for framed in framed_sentences(text, skip_line)]


class Framed(NamedTuple):
    """A sentence, the line that leads in to its list ("" if none), whether it is a list item or table row, and its line."""

    text: str
    frame: str
    item: bool
    line: int


def framed_sentences(text: str, skip_line: Callable[[str], bool] | None = None) -> list[Framed]:
    """Each sentence with the line that leads in to its list ("Sources give other totals:"), or "".

    A table row is read with its column names ("Country: Ghana; Troops: 850."), since "Ghana: 850" alone
    says too little to be found or quoted. A lead-in states nothing itself; it frames the items after it.
    """
    parts: list[Framed] = []
    header: list[str] = []
    lead_in = ""
    lines = re.split(r"\n+", text)
    for i, line in enumerate(lines):
        if (skip_line and skip_line(line)) or line.lstrip().startswith("#"):
            continue  # a heading names a section; it states nothing
        if line.lstrip().startswith("|"):
            cells = _cells(line)
            if all(re.fullmatch(r":?-+:?", c) for c in cells):
                continue
            if i + 1 < len(lines) and all(re.fullmatch(r":?-+:?", c) for c in _cells(lines[i + 1])):
                header = cells
                continue
            pairs = (
                [f"{h}: {c}" for h, c in zip(header, cells) if c and h] if len(header) == len(cells) else []
            )
            parts.append(Framed(f"{'; '.join(pairs) or ': '.join(c for c in cells if c)}.", lead_in, True, i))
            continue
        header = []
        item = LIST_ITEM.match(line) is not None
        label = ITEM_LABEL.match(line) if item else None
        if label:
            line = line[label.end() :]
        line = re.sub(r"\s+", " ", LIST_ITEM.sub(" ", line).replace("**", " ")).strip()
        if line.endswith(":"):
            lead_in = line
            continue
        if not item:
            lead_in = ""
        # An item's bold label ("**A shipwreck under the wharf.** In March…") says what the item is about, as a
        # lead-in does for the list: it frames the item's sentences and is not quoted as one of them.
        frame = f"{lead_in} {label.group(1)}".strip() if label else lead_in
        if len(line) >= 3:
            parts += [Framed(sentence, frame, item, i) for sentence in segment(line)]
    return parts


@lru_cache(maxsize=100_000)
def segment(line: str) -> tuple[str, ...]:
    """The sentences of one line; cached, since the same passages come back query after query."""
    return tuple(s.strip() for s in _tools().segmenter.segment(line) if len(s.strip()) > 2)


def _cells(line: str) -> list[str]:
    return [c.strip() for c in line.strip().strip("|").split("|")]


def first_line(text: str) -> str:
    """The first non-empty line."""
    return text.strip().split("\n", 1)[0].strip()


def name_spans(text: str) -> list[re.Match[str]]:
    """Where the text says each of its names, the longest name first where two overlap."""
    wanted = sorted(set(names(text)), key=len, reverse=True)
    return list(re.finditer("|".join(map(re.escape, wanted)), text)) if wanted else []


def numbers(text: str) -> set[str]:
    """The numbers of a text, normalised ("11,200" → "11200"), an ordinal's too ("its 8568th meeting" → "8568")."""
    return {n.replace(",", "") for n in NUMBER.findall(text)} | set(ORDINAL_FIGURE.findall(text))


def range_bounds(text: str) -> set[str]:
    """The years that bound a span ("from 2013 to 2020", "between 2015 and 2018"), not facts asked."""
    return {year for match in YEAR_RANGE.finditer(text) for year in match.groups() if year}


def _sentence_start(text: str, index: int) -> bool:
    return re.search(r"(?:^|[.?!:;\"“(•*|\n-])[\s\"“*]*(?:\[\d+\][\s.]*)*$", text[:index]) is not None


def names(text: str, *, skip_initial: bool = True) -> list[str]:
    """Runs of capitalised words ("Bank of West African States"); a function word alone is no name.

    With skip_initial, the first word of a sentence is dropped from a run unless more follows it, since
    every sentence starts with a capital ("Which camp…").
    """
    found = []
    shouted = text.isupper()  # in a question written in capitals, "US" may be "us"
    for match in NAME.finditer(text):
        parts = match.group().split()
        if skip_initial and _sentence_start(text, match.start()):
            while parts and fold(parts[0]) in STOPWORDS | QUESTION_WORDS:
                parts = parts[1:]
            # "Earlier it had…": a lone first word the dictionary reads only as an adverb or adjective names nothing.
            if len(parts) == 1 and (fold(parts[0]) in _COMMON_INITIALS or _only_modifier(parts[0])):
                parts = []
        while parts and _function_word(parts[-1], shouted):
            parts = parts[:-1]
        if parts and not all(_function_word(p, shouted) for p in parts):
            found.append(" ".join(parts))
    return found


def _function_word(word: str, shouted: bool) -> bool:
    """A stopword, unless written as an abbreviation: "US" names a country, "us" does not."""
    return fold(word) in STOPWORDS and (shouted or len(word) < 2 or not word.isupper())


# Imperatives that start questions and are capitalised only because they come first.
_COMMON_INITIALS = frozenset(
    "tell name list give describe explain summarize summarise please ok okay yes according another".split()
)


def key_terms(text: str) -> set[str]:
    """Numbers and name words: what a grounded answer may not invent."""
    terms = numbers(text) | {fold(m) for m in MONTH_DATED.findall(text)}
    shouted = text.isupper()
    for name in names(text):
        terms |= {
            fold(_named_part(w)).removesuffix("'s").removesuffix("’s")
            for w in name.split()
            if not _function_word(w, shouted)
        }
    return {t for t in terms if t}


def _named_part(word: str) -> str:
    """The capitalised parts of a hyphenated word ("Dutch-built" → "Dutch"): the rest describes, naming nothing."""
    parts = word.split("-")
    named = [p for p in parts if p[:1].isupper()]
    return "-".join(named) if named and len(named) < len(parts) else word


@lru_cache(maxsize=4096)
def _vocabulary(text: str) -> tuple[frozenset[str], frozenset[str], frozenset[str]]:
    """A text's words, their stems and its numbers: passages are checked for term after term."""
    found = frozenset(words(text))
    # "two annex bases" gives the 2 of "the 2 annex bases": small numbers are often written out.
    spelled = {str(CARDINAL_WORDS.index(w) + 1) for w in found if w in CARDINAL_WORDS}
    return found, frozenset(stem(w) for w in found), frozenset(numbers(text) | spelled)


def term_in(term: str, text: str, *, typo: bool = True) -> bool:
    """A key term appears in the text: numbers exactly, words by stem or, when long enough, one typo away."""
    term = fold(term).replace(",", "")
    parts = words(term)
    if len(parts) > 1:  # "jean-bosco", "c130": every part must be there
        return all(term_in(p, text, typo=typo) for p in parts)
    term = parts[0] if parts else term  # "el-" (a name broken at a line end) is "el"
    vocabulary, stems, figures = _vocabulary(text)
    if term[:1].isdigit():
        return term in figures or term in vocabulary
    # An acronym's plural is the acronym and an "s" ("IEDs"), which the stemmer reads as another word.
    if term in vocabulary or stem(term) in stems or (len(term) >= 2 and f"{term}s" in vocabulary):
        return True
    if not typo:
        return False
    if any(derived(term, w) or derived(w, term) for w in vocabulary):
        return True
    if len(term) < 5:
        return False
    return near_spelling(term, vocabulary) is not None or any(
        len(w) >= 5 and (w.startswith(term[:6]) or term.startswith(w[:6])) and min(len(w), len(term)) >= 6
        for w in vocabulary
    )


def derived(word: str, base: str) -> bool:
    """The word is the base with a short ending: a demonym or adjective of a name ("Kenyan", "Ghanaians")."""
    return (
        len(base) >= DERIVED_MIN_BASE
        and word.startswith(base)
        and 0 < len(word) - len(base) <= DERIVED_MAX_END
    )


# English forms a name's derivatives with endings of up to four letters ("Kenya-n", "Japan-ese", "Ghana-ians");
# a base under four letters would match too many unrelated words.
DERIVED_MIN_BASE = 4
DERIVED_MAX_END = 4
# rapidfuzz ratio for one typo in a word of five or more letters ("Kowalski"/"Kowalsky" is 87.5, "Lisbonne"/"Lisbone"
# 93, "Oslo"/"Olso" is never compared); 80 keeps unrelated words of that length apart.
FUZZY_MIN = 80.0
# The ratio alone lets two edits through in a six-letter word ("harper"/"hare" is 80): a word this long may hold
# two typos ("neccesary"), a shorter one only one (a transposition, "Olso", counts as one).
LONG_WORD = 8


def abbreviations(texts: list[str]) -> dict[str, str]:
    """Each abbreviation the texts define ("World Health Organization (WHO)"), with its most common long form."""
    found = extract_abbreviation_definition_pairs_parallel(texts, most_common_definition=True)
    return {pair.abbreviation: pair.definition for pair in found.extractions}


def near_spelling(word: str, choices: Iterable[str], min_ratio: float = FUZZY_MIN) -> str | None:
    """The choice a typo away from the word (two in a long word), or None: "Harper" is not "Hare"."""
    edits = 1 if len(word) < LONG_WORD else 2
    for choice, _, _ in process.extract(word, choices, scorer=fuzz.ratio, score_cutoff=min_ratio, limit=5):
        if OSA.distance(word, choice) <= edits:
            return str(choice)
    return None


def ungrounded_terms(text: str, evidence: str) -> set[str]:
    """Key terms of a text that the evidence does not contain."""
    return {t for t in key_terms(text) if not term_in(t, evidence)}


def unabbreviated(text: str) -> str:
    """Chat shorthand written out ("how many ppl r there" → "how many people are there")."""
    return re.sub(r"  +", " ", SHORTHAND_WORD.sub(lambda m: SHORTHAND[m.group()], text)).strip()
