"""The grounded answer chain: condense, retrieve, gate, generate, check, cite."""

from __future__ import annotations

import difflib
import logging
import math
import re
import time
from collections.abc import Iterator
from dataclasses import asdict, dataclass, field, replace
from pathlib import Path
from typing import Any

import numpy as np
from langchain_core.embeddings import Embeddings
from langchain_core.language_models import BaseLanguageModel
from langchain_core.output_parsers import StrOutputParser
from langchain_core.prompts import PromptTemplate
from langchain_core.runnables import Runnable, RunnableLambda

from rag.config import Settings
from rag.errors import InputRejected, LLMUnavailable, RetrievalUnavailable
from rag.retrieve import STOPWORDS, Passage, Retriever, fold, tokenize
from rag.text import defang, strip_markup

log = logging.getLogger(__name__)

PROMPTS = Path(__file__).parent / "prompts"
NOT_FOUND = "I could not find that in the documents."
OFF_LIMITS = "I can only answer questions about MINUSMA from its documents; I cannot share my instructions."
GREETING = "Hello! Ask me about the UN mission in Mali (MINUSMA), its 2023 withdrawal or its context."
THANKS = "You're welcome. Ask me anything else about MINUSMA."
LLM_DOWN_NOTE = "(The language model is unavailable; this is the closest passage from the documents.)"

SMALLTALK = re.compile(
    r"^\s*(?:(?P<greet>hi|hello|hey|good (?:morning|afternoon|evening)|greetings|bonjour|salut)"
    r"|(?P<thanks>thanks?(?: you)?(?: very much| a lot| so much)?|thx|merci|ok(?:ay)?,? thanks?|great,? thanks?)"
    r"|(?P<bye>bye|goodbye|see you))(?: there)?[\s!.?]*$",
    re.I,
)
INSTRUCTION_PROBE = re.compile(
    r"system prompt|your (?:instructions|prompt|rules|guidelines)|initial prompt|"
    r"ignore (?:all |any |the )?(?:previous|prior|above|earlier|your)|disregard (?:all |the )?(?:previous|above)|"
    r"developer mode|jailbreak|you are now|pretend (?:to be|you are)",
    re.I,
)
FOLLOW_UP = re.compile(
    r"\b(?:he|she|him|his|her|hers|it|its|they|them|their|theirs|there|then|that|this|those|these|"
    r"the same|the mission|the camp|the resolution)\b|^(?:and|what about|how about|also)\b",
    re.I,
)
UNSAFE_CHARS = re.compile("[\x00-\x08\x0b-\x1f\x7f\u200e\u200f\u202a-\u202e\u2066-\u2069\ud800-\udfff]")
NUMBER = re.compile(r"(?<![\w])(?:\d[\d,.]*\d|\d)(?![\w])")
# Capitalised words that carry no fact of their own and so need no grounding.
COMMON_CAPITALS = frozenset(
    "i a an the in on at of for from by to and or but it its he she they this that these those there "
    "then what who whom which when where why how did does do was were is are has have had yes no not "
    "according since after before during between about also as with un".split()
)
# Sentences about the document itself ("This report lists…") state no fact.
META_SENTENCE = re.compile(r"\b(?:this|the) report\b|\breport on the\b", re.I)
DATE = re.compile(
    r"\b(?:1[89]|20)\d{2}\b|\b(?:January|February|March|April|May|June|July|August|September|October|November"
    r"|December)\b"
)
ANSWER_TYPES = [
    (re.compile(r"^\W*(?:when|until when|by when|since when|what (?:date|year|day))\b", re.I), DATE),
    (
        re.compile(r"\b(?:how (?:many|much|far|long|large)|what (?:percentage|share|number|budget))\b", re.I),
        re.compile(r"\d"),
    ),
]
ANSWER_TYPE_BONUS = 0.1
GENERIC_TERMS = frozenset({"minusma", "mali", "malian", "united", "nations", "security", "council"})
GENERIC_WORDS = frozenset({"minusma", "mali", "mission", "un"})
OVERLAP_WEIGHT = 0.4
SENTENCE_CACHE_SIZE = 50_000
# Share of the question's words the best sentences must contain: below it, they answer another question.
MIN_COVERAGE = 0.55
QUESTION_WORDS = frozenset("many much long often tell name happen happened give list describe know".split())
MONTHS = "january february march april may june july august september october november december".split()


@dataclass
class Source:
    """A numbered passage an answer can cite."""

    n: int
    title: str
    source: str
    chunk_id: str
    score: float
    text: str
    date: str = ""
    section: str = ""


@dataclass
class Answer:
    """The product's reply: text with [n] citations, whether it refused, and its sources."""

    answer: str
    refused: bool
    sources: list[Source] = field(default_factory=list)
    question: str = ""
    standalone_question: str = ""
    retrieved: list[Source] = field(default_factory=list)
    note: str = ""

    def to_json(self) -> dict[str, Any]:
        """The public JSON shape of `python -m rag ask --json` and `POST /api/ask`."""
        keys = ("n", "title", "source", "chunk_id", "score", "text")
        return {
            "answer": self.answer,
            "refused": self.refused,
            "sources": [{k: v for k, v in asdict(s).items() if k in keys} for s in self.sources],
        }


@dataclass(frozen=True)
class Sentence:
    """One sentence of a retrieved passage, scored against the question."""

    text: str
    passage: int
    score: float
    core: str


@dataclass(frozen=True)
class Event:
    """A streamed piece of an answer: a token, or the final Answer."""

    token: str = ""
    final: Answer | None = None


def load_prompt(name: str) -> PromptTemplate:
    """A prompt template from rag/prompts."""
    return PromptTemplate.from_template((PROMPTS / f"{name}.txt").read_text(encoding="utf-8"))


def clean_input(text: str) -> str:
    """Text without control characters, bidirectional overrides or lone surrogates, which only spoof or break."""
    return UNSAFE_CHARS.sub("", text or "")


def check_question(question: str, settings: Settings) -> str:
    """Refuse empty or over-long questions before any work is done."""
    question = clean_input(question).strip()
    if not question:
        raise InputRejected("Please type a question.")
    if len(question) > settings.max_question_chars:
        raise InputRejected(
            f"Your question is {len(question)} characters long; the limit is {settings.max_question_chars}."
        )
    return question


def trim_history(history: list[dict[str, str]], max_chars: int) -> list[dict[str, str]]:
    """The most recent turns that fit the budget, oldest first."""
    kept: list[dict[str, str]] = []
    used = 0
    for turn in reversed(history or []):
        if turn.get("role") not in ("user", "assistant") or not isinstance(turn.get("content"), str):
            raise InputRejected("history must be a list of {role: user|assistant, content: str}")
        content = clean_input(turn["content"])
        used += len(content)
        if used > max_chars:
            break
        kept.append({"role": turn["role"], "content": content})
    return kept[::-1]


def key_terms(text: str, *, skip_initial: bool = False) -> set[str]:
    """Numbers, dates and proper names: what a grounded answer may not invent.

    With skip_initial, a capitalised word that only starts a sentence ("Wich camp…") is not taken for a name.
    """
    terms = {n.replace(",", "").rstrip(".") for n in NUMBER.findall(text)}
    for match in re.finditer(r"\b[A-ZÀ-Ý][\w'À-ÿ-]*", text):
        word = match.group().lower().removesuffix("'s")
        initial = not text[: match.start()].strip() or text[: match.start()].rstrip()[-1] in ".?!:"
        if word not in COMMON_CAPITALS and not (skip_initial and initial):
            terms.add(word)
    return terms


def term_in(term: str, text: str) -> bool:
    """A key term appears in the text (numbers exactly, names tolerating a plural, accent or typo)."""
    term, normalized = fold(term), fold(text).replace(",", "")
    stem = term[:-1] if len(term) > 3 and term.endswith("s") else term
    if re.search(rf"(?<![\w]){re.escape(stem)}s?(?![\w])", normalized):
        return True
    if term[0].isdigit() or len(term) < 5:
        return False
    return any(_variant(term, word) for word in set(re.findall(r"[\w'-]+", normalized)))


def _variant(term: str, word: str) -> bool:
    """One typo away ("Represntative"), or the same stem ("Burkinabe" / "Burkina")."""
    for form in {word, word.removesuffix("s")}:
        if abs(len(form) - len(term)) <= 1 and difflib.SequenceMatcher(None, term, form).ratio() >= 0.8:
            return True
    shorter, longer = sorted((term, word), key=len)
    return len(shorter) >= 6 and len(longer) - len(shorter) <= 3 and longer.startswith(shorter)


def ungrounded_terms(answer: str, evidence: str) -> set[str]:
    """Key terms of the answer that the evidence does not contain."""
    return {t for t in key_terms(answer) if not term_in(t, evidence)}


def split_sentences(text: str) -> list[str]:
    """Sentences and list items of a passage."""
    parts: list[str] = []
    for line in re.split(r"\n+", text):
        if line.lstrip().startswith("|"):
            cells = [c.strip() for c in line.strip().strip("|").split("|")]
            if all(re.fullmatch(r":?-+:?", c) for c in cells):
                continue
            line = ": ".join(cells) + "."
        line = re.sub(r"^\s*(?:[-*]|\d+\.)\s+|\*\*", " ", line).strip()
        if line.startswith("Sources:") or len(line) < 3 or line.endswith(":"):
            continue
        line = re.sub(r"\s+", " ", line)
        parts += [s.strip() for s in re.split(r"(?<=[.!?])\s+(?=[A-Z0-9\"“])", line) if len(s.strip()) > 2]
    return parts


class Assistant:
    """Answers questions from the retrieved passages only; every dependency is passed in."""

    def __init__(
        self,
        *,
        retriever: Retriever,
        embeddings: Embeddings,
        llm: BaseLanguageModel | None,
        settings: Settings,
    ) -> None:
        self.retriever = retriever
        self.embeddings = embeddings
        self.llm = llm
        self.settings = settings
        self.answer_chain: Runnable | None = None
        self.condense_chain: Runnable | None = None
        if llm is not None:
            self.answer_chain = load_prompt("answer") | llm | StrOutputParser()
            self.condense_chain = load_prompt("condense") | llm | StrOutputParser()
        self.retrieve_chain: Runnable = RunnableLambda(self._retrieve)
        self._vector_cache: dict[str, np.ndarray] = {}

    def ask(self, question: str, history: list[dict[str, str]] | None = None) -> Answer:
        """The whole answer at once."""
        final = None
        for event in self.stream(question, history):
            final = event.final or final
        assert final is not None
        return final

    def stream(self, question: str, history: list[dict[str, str]] | None = None) -> Iterator[Event]:
        """Tokens as the model writes them, then the checked, cited Answer."""
        question = check_question(question, self.settings)
        history = trim_history(history or [], self.settings.max_history_chars)
        canned = self._canned_reply(question)
        if canned:
            yield Event(final=canned)
            return
        asked = strip_markup(question).strip()
        standalone = self.condense(asked, history)
        candidates = self.retrieve_chain.invoke(standalone)
        if not candidates or max(p.similarity for p in candidates) < self.settings.min_relevance:
            base = Answer("", False, [], question, standalone, [])
            yield Event(final=self._refusal(base, "no passage is relevant enough"))
            return
        passages, ranked = self.rerank(candidates, self.rank_sentences(standalone, candidates))
        base = Answer(
            "", False, [], question, standalone, [self._source(n, p) for n, p in enumerate(passages, 1)]
        )
        missing = question_terms_missing(question, passages[ranked[0].passage - 1]) if ranked else set()
        # A follow-up leaves out words the conversation supplies, so its coverage is not a signal.
        coverage = 1.0 if standalone != asked else question_coverage(asked, ranked[:3], passages)
        if not ranked or ranked[0].score < self.settings.min_relevance or missing or coverage < MIN_COVERAGE:
            yield Event(
                final=self._refusal(base, f"weak evidence: missing {missing}, coverage {coverage:.2f}")
            )
            return
        draft = ""
        if self.answer_chain is not None:
            try:
                for token in self._generate(standalone, ranked):
                    draft += token
                    if token:
                        yield Event(token=token)
            except LLMUnavailable as exc:
                log.warning("LLM failed, answering extractively: %s", exc)
                if self.settings.raise_errors:
                    raise
                base.note = LLM_DOWN_NOTE
                draft = ""
        yield Event(final=self._compose(base, draft, ranked, passages))

    def condense(self, question: str, history: list[dict[str, str]]) -> str:
        """A standalone question, rewritten only when a follow-up needs the conversation."""
        previous = [t["content"] for t in history if t["role"] == "user"]
        if not previous or not self._is_follow_up(question):
            return question
        fallback = f"{question} ({_topic_of(history)})"
        if self.condense_chain is None:
            return fallback
        transcript = "\n".join(
            f"{'User' if t['role'] == 'user' else 'Assistant'}: {_first_line(t['content'])}"
            for t in history[-4:]
        )
        try:
            rewritten = self.condense_chain.invoke({"history": transcript, "question": question}).strip()
        except Exception as exc:  # a failing backend must not stop retrieval
            log.warning("rewrite failed, using the previous question: %s", exc)
            return fallback
        rewritten = _first_line(rewritten)
        if not self._valid_rewrite(question, rewritten, transcript):
            return fallback
        return rewritten

    def rank_sentences(self, question: str, passages: list[Passage]) -> list[Sentence]:
        """Every sentence of the passages, best first: meaning plus word overlap with the question."""
        candidates: list[tuple[str, int, str, str]] = []
        for n, passage in enumerate(passages, 1):
            section = str(passage.metadata.get("section") or passage.metadata.get("title") or "")
            sentences = split_sentences(passage.text)
            for i, sentence in enumerate(sentences):
                # Instructions planted in a document are not evidence (OWASP LLM01): never quoted, never sent.
                if META_SENTENCE.search(sentence) or INSTRUCTION_PROBE.search(sentence):
                    continue
                context = sentences[i - 1] if i and _needs_context(sentence, sentences[i - 1]) else ""
                text = f"{context} {sentence}".strip()
                candidates.append((text, n, f"{section}: {text}", sentence))
        if not candidates:
            return []
        vectors = self._sentence_vectors([c[2] for c in candidates])
        query = np.asarray(self.embeddings.embed_query(question))
        q_tokens = set(tokenize(question)) - GENERIC_WORDS
        token_sets = [set(tokenize(c[2])) for c in candidates]
        # A question word found in few candidate sentences ("Dujarric", "11") tells more than a common one.
        weights = {w: math.log(1 + len(candidates) / (1 + sum(w in s for s in token_sets))) for w in q_tokens}
        total = sum(weights.values())
        wanted = expected_answer(question)
        scored = []
        for (text, n, _, core), tokens, vector in zip(candidates, token_sets, vectors):
            overlap = sum(weights[w] for w in q_tokens & tokens) / total if total else 0.0
            score = (1 - OVERLAP_WEIGHT) * float(np.dot(query, vector)) + OVERLAP_WEIGHT * overlap
            if wanted and wanted.search(core):
                score += ANSWER_TYPE_BONUS
            scored.append(Sentence(text, n, score, core))
        # Sentences from passages that hold every name and figure of the question come first.
        gaps = {n: len(question_terms_missing(question, p)) for n, p in enumerate(passages, 1)}
        return sorted(scored, key=lambda s: (gaps[s.passage], -s.score))

    def rerank(
        self, candidates: list[Passage], ranked: list[Sentence]
    ) -> tuple[list[Passage], list[Sentence]]:
        """The top_k passages ordered by their best sentence, renumbered 1..k, with their sentences."""
        order: list[int] = []
        for sentence in ranked:
            if sentence.passage not in order:
                order.append(sentence.passage)
        order += [n for n in range(1, len(candidates) + 1) if n not in order]
        kept = order[: self.settings.top_k]
        number = {old: new for new, old in enumerate(kept, 1)}
        passages = [candidates[old - 1] for old in kept]
        return passages, [replace(s, passage=number[s.passage]) for s in ranked if s.passage in number]

    def _sentence_vectors(self, texts: list[str]) -> np.ndarray:
        """Embeddings of sentences, cached: the same corpus sentences come back query after query."""
        missing = [t for t in dict.fromkeys(texts) if t not in self._vector_cache]
        if missing:
            if len(self._vector_cache) + len(missing) > SENTENCE_CACHE_SIZE:
                self._vector_cache.clear()
            for text, vector in zip(missing, self.embeddings.embed_documents(missing)):
                self._vector_cache[text] = np.asarray(vector)
        return np.asarray([self._vector_cache[t] for t in texts])

    def _retrieve(self, query: str) -> list[Passage]:
        try:
            return self.retriever.search(query, self.settings.rerank_candidates)
        except RetrievalUnavailable:
            raise
        except Exception as exc:
            raise RetrievalUnavailable(f"search failed: {exc}") from exc

    def _generate(self, question: str, ranked: list[Sentence]) -> Iterator[str]:
        assert self.answer_chain is not None
        evidence = "\n".join(f"- {s.text}" for s in ranked[:4])
        deadline = time.monotonic() + self.settings.llm_timeout_s
        try:
            for token in self.answer_chain.stream({"passages": evidence, "question": question}):
                yield token
                if time.monotonic() > deadline:
                    break
        except LLMUnavailable:
            raise
        except Exception as exc:
            raise LLMUnavailable(f"{type(exc).__name__}: {exc}") from exc

    def _compose(self, base: Answer, draft: str, ranked: list[Sentence], passages: list[Passage]) -> Answer:
        """The final text: the model's short answer if the evidence backs it, then the quoted evidence."""
        best = ranked[0]
        quotes = [best]
        for other in ranked[1:3]:
            adds_facts = key_terms(other.text) - key_terms(best.text)
            overlaps = other.core in best.text or best.core in other.text
            if other.score >= 0.9 * best.score and adds_facts and not overlaps and len(quotes) < 2:
                quotes.append(other)
        cited = sorted({q.passage for q in quotes})
        short = _clean_draft(draft)
        lines = []
        if short:
            # The short answer cites the quoted sentence it comes from, and must be grounded in that passage.
            support = max(quotes, key=lambda q: _word_share(short, q.text))
            grounded = not ungrounded_terms(short, passages[support.passage - 1].text)
            if grounded and _word_share(short, support.text) >= 0.75:
                if len(short) < 0.8 * len(support.core):  # a copy of the quote adds nothing
                    lines.append(f"{defang(short)} [{support.passage}]")
            else:
                log.info("draft %r failed the grounding check; quoting the evidence", draft)
        lines += [f"“{defang(q.text)}” [{q.passage}]" for q in quotes]
        if base.note:
            lines.append(base.note)
        base.answer = "\n\n".join(lines)
        base.sources = [s for s in base.retrieved if s.n in cited]
        return base

    def _canned_reply(self, question: str) -> Answer | None:
        smalltalk = SMALLTALK.match(question)
        if smalltalk:
            text = (
                GREETING if smalltalk.group("greet") else THANKS if smalltalk.group("thanks") else "Goodbye!"
            )
            return Answer(text, False, [], question, question)
        if INSTRUCTION_PROBE.search(question):
            return Answer(OFF_LIMITS, True, [], question, question)
        return None

    def _refusal(self, base: Answer, why: str) -> Answer:
        log.info("refused %r: %s", base.standalone_question, why)
        base.answer, base.refused, base.sources = NOT_FOUND, True, []
        return base

    @staticmethod
    def _is_follow_up(question: str) -> bool:
        return bool(FOLLOW_UP.search(question)) or len(tokenize(question)) <= 2

    @staticmethod
    def _valid_rewrite(question: str, rewritten: str, transcript: str) -> bool:
        if not rewritten or len(rewritten) > 2 * len(question) + 120:
            return False
        # It must bring in something from the conversation, and only names the conversation already holds.
        added = key_terms(rewritten) - key_terms(question)
        return bool(added) and not ungrounded_terms(rewritten, f"{transcript} {question}")

    @staticmethod
    def _source(n: int, passage: Passage) -> Source:
        meta = passage.metadata
        return Source(
            n=n,
            title=str(meta.get("title", "")),
            source=passage.source,
            chunk_id=passage.chunk_id,
            score=round(passage.similarity, 4),
            text=passage.text,
            date=str(meta.get("date", "")),
            section=str(meta.get("section", "")),
        )


def expected_answer(question: str) -> re.Pattern[str] | None:
    """What a sentence must contain to answer this kind of question: a date for "when", a figure for "how many"."""
    for asks, pattern in ANSWER_TYPES:
        if asks.search(question):
            return pattern
    return None


def question_terms_missing(question: str, passage: Passage) -> set[str]:
    """Names and figures of the question that the passage (with its title and section) does not contain."""
    evidence = f"{passage.metadata.get('title', '')} {passage.metadata.get('section', '')} {passage.text}"
    terms = key_terms(strip_markup(question), skip_initial=True) - GENERIC_TERMS
    return {t for t in terms if t not in MONTHS and not term_in(t, evidence)}


def question_coverage(question: str, best: list[Sentence], passages: list[Passage]) -> float:
    """Share of the question's content words found in the best sentences (and their section headings)."""
    words = [w for w in dict.fromkeys(tokenize(question)) if w not in GENERIC_WORDS and not _question_word(w)]
    if not words:
        return 1.0
    headings = " ".join(str(passages[s.passage - 1].metadata.get("section", "")) for s in best)
    evidence = " ".join(tokenize(" ".join(s.text for s in best) + " " + headings))
    return sum(term_in(w, evidence) for w in words) / len(words)


def _question_word(word: str) -> bool:
    """Words that shape a question but are not what it is about, typos included ("happend")."""
    return any(word == q or (len(word) > 4 and _variant(word, q)) for q in QUESTION_WORDS)


def _topic_of(history: list[dict[str, str]]) -> str:
    """What a follow-up most likely refers to: the names in the last question, then the first name in the reply."""
    last_user = max(i for i, t in enumerate(history) if t["role"] == "user")
    asked = history[last_user]["content"]
    replies = [t["content"] for t in history[last_user + 1 :] if t["content"] != NOT_FOUND]
    reply = re.sub(r"\[\d+\]|[“”\"]", "", replies[0]).strip() if replies else ""
    reply_sentence = re.split(r"(?<=[.!?])\s", _first_line(reply), maxsplit=1)[0]
    topic = _names(asked, skip_initial=True) + _names(reply_sentence)[:2]
    return " ".join(dict.fromkeys(topic)) or asked


def _names(text: str, *, skip_initial: bool = False) -> list[str]:
    """Dates, figures and runs of capitalised words ("Alliance of Sahel States", "31 October 2023")."""
    names = []
    pattern = (
        r"(?:\d[\d,.]*\s+)?[A-ZÀ-Ý][\w'À-ÿ-]*(?:\s+(?:of\s+)?[A-ZÀ-Ý][\w'À-ÿ-]*)*(?:\s+\d{4})?|\d[\d,.]*\d"
    )
    for match in re.finditer(pattern, text):
        words = match.group().split()
        if skip_initial and not text[: match.start()].strip():
            words = words[1:]  # the first word of a sentence is capitalised anyway
        phrase = " ".join(words).removeprefix("of ").strip()
        if phrase and phrase.lower() not in COMMON_CAPITALS:
            names.append(phrase)
    return names


def _first_line(text: str) -> str:
    return text.strip().split("\n", 1)[0].strip()


def _needs_context(sentence: str, previous: str) -> bool:
    """A sentence that points back ("He…", "The resolution…") is quoted with the one before it."""
    if re.match(r"(?:He|She|It|They|This|These|The same|Both|By then|Then)\b", sentence):
        return True
    definite = re.match(r"The (\w+)", sentence)
    return bool(definite) and definite.group(1).lower()[:6] in previous.lower()


def _clean_draft(draft: str) -> str:
    short = re.sub(r"^\s*(?:[-*•]|\d+\.)\s+", "", _first_line(draft)).strip(" .\"'“”")
    short = re.sub(r"\[\d+\]|!\[[^\]]*\]\([^)]*\)|\]\([^)]*\)|<[^>]+>", "", short).strip()
    if not short or "not found" in short.lower() or len(short) > 300:
        return ""
    return short


def _word_share(short: str, sentence: str) -> float:
    """Share of the short answer's content words that the sentence contains."""
    words = [w for w in tokenize(short) if w not in STOPWORDS]
    if not words:
        return 0.0
    quoted = set(tokenize(sentence))
    return sum(w in quoted for w in words) / len(words)
