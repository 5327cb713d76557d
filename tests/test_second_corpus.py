"""The same engine over another corpus (eval/second-corpus), with only the corpus folder changed."""

from __future__ import annotations

from dataclasses import replace
from pathlib import Path

import pytest

from rag.config import Settings
from rag.evaluate import evaluate, load_items, summarize
from rag.ingest import ingest
from rag.policy import DEFAULT_POLICY
from rag.runtime import Runtime

SECOND = Path(__file__).resolve().parent.parent / "eval" / "second-corpus"
# What the engine scores there is 56.3% (18 of 32, session 16; 43.8% in sessions 11 to 15): this is a floor
# against regressions, two items below it, not the 85% that issue 11 asks for; eval/RESULTS.md reports the figure.
FLOOR = 0.5


@pytest.fixture(scope="module")
def second_runtime(tmp_path_factory: pytest.TempPathFactory, embeddings) -> Runtime:  # noqa: ANN001
    settings = Settings(
        corpus_dir=SECOND / "docs", index_dir=tmp_path_factory.mktemp("second"), llm="extractive"
    )
    runtime = Runtime(settings, embeddings=embeddings)
    ingest([settings.corpus_dir], store=runtime.store, settings=settings)
    return runtime


def test_second_corpus_is_answered_by_the_same_code(second_runtime: Runtime) -> None:
    results = evaluate(lambda q, h: second_runtime.assistant.ask(q, h), load_items(SECOND / "qa.jsonl"))
    summary = summarize(results)
    assert summary["ungrounded_answers"] == 0
    assert summary["overall"] >= FLOOR, summary
    assert summary["categories"]["off-topic"][0] == 1.0


def test_corpus_generic_words_are_computed_not_listed(second_runtime: Runtime) -> None:
    vocabulary = second_runtime.keyword.vocabulary
    assert vocabulary.share("harbourlin") == 1.0 and vocabulary.boilerplate == frozenset({"sources"})


def test_words_frequent_in_a_small_corpus_still_count(second_runtime: Runtime) -> None:
    # "open", "rail" and "light" are in over a fifth of these 76 chunks; weighing nothing, they left "passengers"
    # alone to pick a sentence about boardings. Each weighs its IDF, the corpus's own name least.
    weights = second_runtime.assistant.evidence.weights(
        "When did the Harbourline light rail open to passengers?"
    )
    assert all(w > 0 for w in weights.values()), weights
    assert (
        min(weights, key=weights.__getitem__) == "harbourlin"
        and max(weights, key=weights.__getitem__) == "passeng"
    )


def test_a_list_question_answered_by_one_item_quotes_the_list(second_runtime: Runtime) -> None:
    # The three chairs are the items of one list under "Chairs of the board"; only the first shares the year asked.
    answer = second_runtime.assistant.ask("Who have been the chairs of the CRTA board since 2006?")
    assert answer.form == "list", answer.answer
    assert all(name in answer.answer for name in ("Farrant", "Ravensworth", "Kerrigan")), answer.answer


def test_a_false_date_in_a_why_question_does_not_hide_the_true_one(second_runtime: Runtime) -> None:
    # The line was due in November 2012 and opened in August 2014: the passage saying so lacks the asked date.
    answer = second_runtime.assistant.ask("Why did the Harbourline open on schedule in November 2012?")
    assert "18 August 2014" in answer.answer, answer.answer


def test_a_count_of_something_else_is_not_given_as_the_short_answer(second_runtime: Runtime) -> None:
    # The best sentence gives kilometres and stations, not stops: it is quoted, but neither is stated as the count.
    open_gate = second_runtime.build_assistant(policy=replace(DEFAULT_POLICY, gate_threshold=0.0))
    answer = open_gate.ask("How many stops does the Blue Line have?")
    assert answer.answer.startswith("“"), answer.answer


def test_a_chunk_of_boilerplate_alone_takes_no_place_among_the_candidates(second_runtime: Runtime) -> None:
    found = second_runtime.search.search(
        "Who has been chief executive of the transit authority since 2022?", 12
    )
    assert len(found) == 12 and not any(p.text.startswith("Sources:") for p in found)
    assert any("Quayle" in p.text for p in found)


def test_an_abbreviation_and_its_long_form_are_one_name(second_runtime: Runtime) -> None:
    # The list of chief executives sits in a document titled with "CRTA"; the question spells the name out, and
    # before, the passage lacking it was put after every other.
    vocabulary = second_runtime.keyword.vocabulary
    assert vocabulary.aliases["CRTA"] == "Calder Regional Transit Authority"
    assert vocabulary.aliases_in("the CRTA board") == "Calder Regional Transit Authority"
    assert vocabulary.aliases_in("the Calder Regional Transit Authority's board") == "CRTA"
    answer = second_runtime.assistant.ask(
        "Who has been chief executive of the Calder Regional Transit Authority since March 2022?"
    )
    assert answer.answer.startswith("Rosalind Quayle"), answer.answer


def test_a_list_answer_quotes_each_item_once_by_the_sentence_that_names_it(second_runtime: Runtime) -> None:
    # Before, the item "Lionel Abernethy, 2006 to 2011. He resigned… The CRTA announced…" took two places of the
    # list, and its third sentence stood for it alone, without his name.
    answer = second_runtime.assistant.ask(
        "Which people have served as chief executive of the CRTA, including in an acting capacity?"
    )
    lines = answer.answer.splitlines()
    assert all(name in answer.answer for name in ("Abernethy", "Carraway", "Solberg", "Achterberg")), lines
    assert "personal reasons" not in answer.answer and sum("Abernethy" in line for line in lines) == 1, lines


def test_a_list_straight_under_a_heading_is_led_in_by_the_heading(second_runtime: Runtime) -> None:
    # "Chief executives" heads the list and no line leads in to it; its items name neither "chief" nor the CRTA.
    answer = second_runtime.assistant.ask(
        "Who have been the chief executives of the Calder Regional Transit Authority?"
    )
    names = ("Abernethy", "Carraway", "Solberg", "Achterberg", "Quayle")
    assert answer.form == "list" and sum(name in answer.answer for name in names) >= 4, answer.answer
    # Found a document's list, the answer is that list: the sentences on the Transit Act around it stay out.
    assert "Transit Act" not in answer.answer, answer.answer


def test_an_amount_keeps_its_currency_and_scale_but_not_the_words_after_it(second_runtime: Runtime) -> None:
    # Before: "3.20 anywhere [1]" and "22 million [1]".
    fare = second_runtime.assistant.ask("How much does a single fare cost?")
    assert fare.answer.startswith("$3.20 [1]"), fare.answer
    cost = second_runtime.assistant.ask("How much did the first line cost?")
    assert cost.answer.startswith("$847 million [1]"), cost.answer


def test_what_caused_asks_for_an_explanation(second_runtime: Runtime) -> None:
    answer = second_runtime.assistant.ask("What caused the Marlow Square derailment?")
    assert answer.form == "explain" and "switch blade had fractured" in answer.answer, answer.answer


def test_an_account_led_into_a_list_gives_its_items(second_runtime: Runtime) -> None:
    # "…21 months behind schedule, for four main reasons." leads a numbered list, one reason per chunk; before, the
    # answer stopped at the first reason and filled up with other sentences.
    answer = second_runtime.assistant.ask("Why did the first Harbourline line open so late?")
    assert answer.form == "explain", answer.answer
    assert all(w in answer.answer for w in ("Margaret", "gasworks", "viaduct", "Guild")), answer.answer
