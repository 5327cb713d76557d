"""The question's language, and its translation into the documents' language before search."""

from __future__ import annotations

import logging
import re
from functools import cached_property

from langchain_core.language_models import BaseLanguageModel
from langchain_core.output_parsers import StrOutputParser

from rag.answer.prompts import load_prompt
from rag.answer.question import typed_question_word
from rag.policy import Policy
from rag.retrieve import Vocabulary
from rag.text import STOPWORDS, first_line, fold, names, stem, term_in, ungrounded_terms, words

log = logging.getLogger(__name__)

LANGUAGE_NAMES = {
    "fr": "French",
    "es": "Spanish",
    "pt": "Portuguese",
    "de": "German",
    "it": "Italian",
    "nl": "Dutch",
    "ar": "Arabic",
    "ru": "Russian",
    "tr": "Turkish",
    "pl": "Polish",
    "sw": "Swahili",
    "zh": "Chinese",
    "ja": "Japanese",
    "en": "English",
}
# What a reply in the user's language says about the English documents it quotes, and how it refuses.
NOTES = {
    "fr": "(Réponse tirée des documents, qui sont en anglais.)",
    "es": "(Respuesta tomada de los documentos, que están en inglés.)",
    "pt": "(Resposta tirada dos documentos, que estão em inglês.)",
    "de": "(Antwort aus den Dokumenten, die auf Englisch sind.)",
}
NOT_FOUND = {
    "fr": "Je n'ai pas trouvé cela dans les documents.",
    "es": "No encontré eso en los documentos.",
    "pt": "Não encontrei isso nos documentos.",
    "de": "Das habe ich in den Dokumenten nicht gefunden.",
}
# A line that opens with a language's name and a colon, as the few-shot prompt's lines do.
LABEL = re.compile(rf"^\s*(?:{'|'.join(LANGUAGE_NAMES.values())})\s*:\s*", re.I)
# French and Italian elide an article into a name ("d'Accra", "l'Algérie").
ELISION = re.compile(r"\b[dlDL]['’](?=[A-ZÀ-Ý])")
DEFAULT_NOTE = "(Answered from the documents, which are in English.)"
ACRONYM = re.compile(r"[A-Z]{2,}")
PUNCTUATION = "?!.,;:()\"'«»“”"
# "de", "la": two-letter words of every language that a corpus may also hold; no name is looked for in them.
MIN_LOWERCASE_NAME = 3


class Language:
    """Detects a question's language and translates it with the configured model's few-shot completion."""

    def __init__(self, llm: BaseLanguageModel | None, vocabulary: Vocabulary, policy: Policy) -> None:
        self.vocabulary = vocabulary
        self.policy = policy
        self.chain = None
        if llm is not None:
            self.chain = load_prompt("translate") | llm.bind(stop=["\n"]) | StrOutputParser()

    @cached_property
    def _identifier(self):  # noqa: ANN202
        from py3langid.langid import MODEL_FILE, LanguageIdentifier

        identifier = LanguageIdentifier.from_model_file(MODEL_FILE)
        identifier.set_languages(list(LANGUAGE_NAMES))
        return identifier

    def detect(self, question: str) -> str:
        """The question's language code; the documents' ("en") when most of its words are the corpus's own."""
        found = [w for w in words(question) if not w.isdigit()]
        # "whos", "wat": a mistyped English question word is English.
        known = sum(
            w in STOPWORDS or stem(w) in self.vocabulary.frequencies or typed_question_word(w) for w in found
        )
        if not found or known / len(found) >= self.policy.known_words_same_language:
            return "en"
        return str(self._identifier.classify(question)[0])

    def translate(self, question: str, language: str) -> str | None:
        """The question in English, or None when no model is configured or the translation is unusable."""
        if self.chain is None:
            return None
        name = LANGUAGE_NAMES.get(language, language)
        try:
            text = first_line(self.chain.invoke({"language": name, "question": question}))
        except Exception as exc:  # a failing backend must not stop the answer
            log.warning("translation failed: %s", exc)
            return None
        text = LABEL.sub("", text).strip()  # a small model may repeat the prompt's "English:" label
        # Names change across languages ("OTAN" → "NATO"), numbers do not: a number the question lacks, or a name
        # neither the question nor the corpus holds, was invented (the few-shot examples leak into a small model)
        # and is cut out; the rest of the translation still helps search.
        if not text or len(text) > 2 * len(question) + 40:
            log.info("translation %r of %r rejected", text, question)
            return None
        for term in ungrounded_terms(text, question):
            if term[0].isdigit() or stem(term) not in self.vocabulary.frequencies:
                log.info("translation %r invented %r", text, term)
                text = re.sub(rf"\s*\b(?:in |from |at |of )?{re.escape(term)}\b", "", text, flags=re.I)
        # A word copied from the question that the corpus never uses was left untranslated ("conseil
        # municipal"): no passage can hold it, so it would only make the evidence look short. An acronym is a name
        # in every language and stays. A name copied so ("d'Alger") is then one the translation lost.
        text = " ".join(w for w in text.split() if not self._untranslated(w, question))
        # A name of the question that the corpus holds and the translation dropped is what the
        # question is about: it is added back, so ranking still looks for it.
        # "La Banque…": every sentence starts with a capital, so the question's first word names nothing; nor
        # does a name's lowercase joining word ("la" of "Pourquoi la Banque…").
        first = next(iter(question.split()), "")
        lost = []
        for n in names(ELISION.sub("", question)):
            for word in n.split():
                if word == first or not word[:1].isupper() or fold(word) in STOPWORDS:
                    continue
                # A name the corpus spells a letter or two apart is the same name in the documents' language
                # ("Alger": "Algiers", "Tchad": "Chad"): it is added back as the documents write it.
                spelled = word if self.vocabulary.spells(word) else self._spelling(word)
                if spelled and not term_in(word, text) and not term_in(spelled, text):
                    lost.append(spelled)
        # A name typed in lowercase ("bah ndaw", "dpa") is one all the same where the corpus writes it and uses it
        # as no common word.
        for token in question.split():
            word = ELISION.sub("", token.strip(PUNCTUATION))
            if (
                word[:1].islower()
                and len(word) >= MIN_LOWERCASE_NAME
                and self.vocabulary.spells(word)
                and self.vocabulary.names_something(word)
                and not term_in(word, text)
            ):
                lost.append(word)
        return " ".join([text, *dict.fromkeys(lost)])

    def _spelling(self, word: str) -> str | None:
        """The corpus's own spelling of a name written a letter or two apart, capitalised as names are; None if none."""
        near = self.vocabulary.spelling_near(word, self.policy.typo_min_ratio)
        return near[:1].upper() + near[1:] if near else None

    def _untranslated(self, word: str, question: str) -> bool:
        """A word of the translation copied from the question, unknown to the corpus and no acronym."""
        found = [w for w in words(word) if not w.isdigit()]
        return (
            bool(found)
            and not ACRONYM.fullmatch(word.strip(PUNCTUATION))
            and term_in(word, question, typo=False)
            and not any(fold(w) in STOPWORDS or stem(fold(w)) in self.vocabulary.frequencies for w in found)
        )


def note(language: str) -> str:
    """The one-line note for a reply quoted from English documents."""
    return NOTES.get(language, DEFAULT_NOTE)


def not_found(language: str, default: str) -> str:
    """The refusal in the user's language."""
    return NOT_FOUND.get(language, default)
