"""The pipeline: question → (translate, make standalone) → retrieve → rank → gate → compose or write+verify."""

from __future__ import annotations

import logging
import time
from collections.abc import Callable, Generator, Iterator

from langchain_core.embeddings import Embeddings
from langchain_core.language_models import BaseLanguageModel
from langchain_core.retrievers import BaseRetriever
from langchain_core.runnables import Runnable, RunnableLambda

from rag.answer import forms, gate
from rag.answer.evidence import Evidence, rerank
from rag.answer.language import Language, not_found, note
from rag.answer.model import Answer, Event, Source
from rag.answer.prompts import load_prompt
from rag.answer.question import (
    NOT_FOUND,
    Form,
    Question,
    analyse,
    canned_reply,
    check_question,
    set_before,
    trim_history,
    without_instructions,
    without_opener,
)
from rag.answer.vectors import SentenceVectors
from rag.answer.verify import check, sentences
from rag.config import Settings
from rag.errors import LLMUnavailable, RetrievalUnavailable
from rag.policy import DEFAULT_POLICY, Policy
from rag.retrieve import RRF_K, Passage, Vocabulary, from_document
from rag.text import defang, strip_markup, term_in

log = logging.getLogger(__name__)

WRITE_PROMPT = load_prompt("write")
LLM_DOWN_NOTE = "(The language model is unavailable; this answer is quoted from the documents.)"


class Assistant:
    """Answers questions from the retrieved passages only; every dependency is passed in."""

    def __init__(
        self,
        *,
        retriever: BaseRetriever,
        embeddings: Embeddings,
        llm: BaseLanguageModel | None,
        settings: Settings,
        vocabulary: Vocabulary,
        following: Callable[[Passage], Passage] | None = None,
        policy: Policy = DEFAULT_POLICY,
        vectors: SentenceVectors | None = None,
    ) -> None:
        self.retriever = retriever
        self.following = following
        self.settings = settings
        self.policy = policy
        self.evidence = Evidence(embeddings, vocabulary, policy, vectors)
        self.language = Language(llm, vocabulary, policy)
        self.retrieve_chain: Runnable = RunnableLambda(self._retrieve)
        self.writer: BaseLanguageModel | None = None
        if llm is not None and settings.llm_writes:
            self.writer = llm

    def ask(self, question: str, history: list[dict[str, str]] | None = None) -> Answer:
        """The whole answer at once."""
        final = None
        for event in self.stream(question, history):
            final = event.final or final
        assert final is not None
        return final

    def stream(self, question: str, history: list[dict[str, str]] | None = None) -> Iterator[Event]:
        """Verified sentences as they are written (capable models), then the checked, cited Answer."""
        question = without_instructions(strip_markup(check_question(question, self.settings)).strip())
        history = trim_history(history or [], self.settings.max_history_chars)
        question, before = set_before(question)
        if before:
            history = [*history, {"role": "user", "content": before}]
        canned = canned_reply(question, self.settings.topic)
        if canned:
            yield Event(final=canned)
            return
        question = without_opener(question, self.evidence.vocabulary.names_something)
        language = self.language.detect(question)
        translated = self.language.translate(question, language) if language != "en" else None
        asked = analyse(translated or question, history, self.evidence.is_generic)
        base = Answer("", False, [], question, asked.standalone, [], form=asked.form.value)
        if language != "en":
            base.note = note(language)
        queries = [asked.standalone] + ([question] if language != "en" else [])
        candidates = self._candidates(queries)
        if not candidates or not self._relevant(asked.focus, candidates):
            yield Event(final=self._refusal(base, language, "no passage is relevant enough"))
            return
        if asked.form in (Form.EXPLAIN, Form.LIST) and self.following is not None:
            # Lists and explanations run on past a chunk's end: the best passages are read on into the next one.
            reach = self.policy.read_on_passages
            candidates = [self.following(p) for p in candidates[:reach]] + candidates[reach:]
        ranked = self.evidence.rank(asked.focus, asked.form, candidates)
        kept = (
            max(self.settings.top_k, self.policy.list_passages)
            if asked.form is Form.LIST
            else self.settings.top_k
        )
        passages, ranked = rerank(candidates, ranked, kept)
        base.retrieved = [_source(n, p) for n, p in enumerate(passages, 1)]
        if not ranked:
            yield Event(final=self._refusal(base, language, "no sentence in the passages"))
            return
        base.evidence = gate.features(asked.focus, asked.form, ranked, passages, self.evidence)
        base.evidence["p"] = gate.probability(base.evidence, self.policy)
        if not gate.answerable(base.evidence, asked.form, self.policy):
            yield Event(final=self._refusal(base, language, f"weak evidence {base.evidence}"))
            return
        if self.writer is not None:
            written = yield from self._write(asked, passages, base)
            if written is not None:
                yield Event(final=written)
                return
        text, cited = forms.compose(asked.form, asked.focus, ranked, passages, self.evidence, self.policy)
        for i, piece in enumerate(
            text.split("\n\n")
        ):  # streamed as a writing model's answer is: piece by piece
            yield Event(token=piece if i == 0 else f"\n\n{piece}")
        yield Event(final=self._finish(base, text, cited))

    def _write(
        self, asked: Question, passages: list[Passage], base: Answer
    ) -> Generator[Event, None, Answer | None]:
        """The capable model's answer, streamed sentence by sentence once each is verified; None to fall back."""
        assert self.writer is not None
        numbered = "\n\n".join(f"[{n}] {p.text}" for n, p in enumerate(passages, 1))
        deadline = time.monotonic() + self.settings.llm_timeout_s
        kept, total, dropped_in_a_row, seen = [], 0, 0, set()
        try:
            prompt = WRITE_PROMPT.invoke({"passages": numbered, "question": asked.standalone})
            # The model's own stream, not a chain's: closing it at the deadline must stop the request at once
            # (a closed LCEL stream is drained to its end first).
            stream = (_text(chunk) for chunk in self.writer.stream(prompt))
            for sentence in sentences(_until(deadline, stream)):
                # A repeated sentence means the model loops.
                if "NOT FOUND" in sentence.upper() or sentence in seen:
                    break
                seen.add(sentence)
                total += 1
                checked = check(sentence, passages, self.evidence, self.policy)
                if checked.supported:
                    text = defang(sentence)
                    kept.append((text, checked.cited))
                    dropped_in_a_row = 0
                    yield Event(token=("" if len(kept) == 1 else " ") + text)
                    continue
                log.info("dropped a generated sentence (%s): %r", checked.why, sentence)
                dropped_in_a_row += 1
                if dropped_in_a_row >= self.policy.max_unverified_in_a_row:
                    log.info(
                        "%d generated sentences in a row unverified: the model has left the passages",
                        dropped_in_a_row,
                    )
                    break
            stream.close()  # stops the request now, not when the generator is collected
        except Exception as exc:
            log.warning("LLM failed, answering extractively: %s", exc)
            if self.settings.raise_errors:
                raise LLMUnavailable(str(exc)) from exc
            base.note = " ".join(x for x in (base.note, LLM_DOWN_NOTE) if x)
            return None
        if not kept or len(kept) < self.policy.verify_min_kept * total:
            log.info("%d of %d generated sentences verified: answering extractively", len(kept), total)
            return None
        cited = {n for _, ns in kept for n in ns}
        return self._finish(base, " ".join(t for t, _ in kept), cited)

    def _candidates(self, queries: list[str]) -> list[Passage]:
        """The passages for every wording of the question (original and translation), fused by rank."""
        if len(queries) == 1:
            return self.retrieve_chain.invoke(queries[0])
        fused: dict[str, float] = {}
        by_id: dict[str, Passage] = {}
        for query in queries:
            for rank, passage in enumerate(self.retrieve_chain.invoke(query)):
                fused[passage.chunk_id] = fused.get(passage.chunk_id, 0.0) + 1 / (RRF_K + rank + 1)
                best = by_id.get(passage.chunk_id)
                if best is None or passage.similarity > best.similarity:
                    by_id[passage.chunk_id] = passage
        order = sorted(fused, key=fused.__getitem__, reverse=True)
        return [by_id[i] for i in order[: self.settings.rerank_candidates]]

    def _relevant(self, query: str, candidates: list[Passage]) -> bool:
        """A passage is near the question in meaning, or holds every rare name and number it asks about.

        An embedder reads a name it never learned as noise: a passage naming such a person can score under 0.1.
        """
        if max(p.similarity for p in candidates) >= self.settings.min_relevance:
            return True
        terms = self.evidence.key_terms(query)
        return bool(terms) and any(all(term_in(t, p.text, typo=False) for t in terms) for p in candidates)

    def _retrieve(self, query: str) -> list[Passage]:
        try:
            documents = self.retriever.invoke(query, k=self.settings.rerank_candidates)
            return [from_document(doc) for doc in documents]
        except RetrievalUnavailable:
            raise
        except Exception as exc:
            raise RetrievalUnavailable(f"search failed: {exc}") from exc

    def _finish(self, base: Answer, text: str, cited: set[int]) -> Answer:
        base.answer = "\n\n".join(x for x in (text, base.note) if x)
        base.sources = [s for s in base.retrieved if s.n in cited]
        return base

    def _refusal(self, base: Answer, language: str, why: str) -> Answer:
        log.info("refused %r: %s", base.standalone_question, why)
        base.answer, base.refused, base.sources = not_found(language, NOT_FOUND), True, []
        return base


def _text(chunk: object) -> str:
    """The text of a streamed chunk: a chat model's message chunk or a completion model's string."""
    return chunk if isinstance(chunk, str) else str(getattr(chunk, "content", ""))


def _until(deadline: float, tokens: Iterator[str]) -> Iterator[str]:
    """The tokens that arrive before the deadline: a model that writes on and on is cut off."""
    for token in tokens:
        yield token
        if time.monotonic() > deadline:
            log.warning("generation stopped at the time limit")
            return


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
