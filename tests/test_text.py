"""The shared text utilities: one tokenizer, one sentence splitter, names and numbers."""

from __future__ import annotations

from rag.ingest import clean_text
from rag.text import (
    DATE,
    abbreviations,
    content_tokens,
    framed_sentences,
    key_terms,
    names,
    numbers,
    range_bounds,
    split_sentences,
    term_in,
    tokenize,
    ungrounded_terms,
)


def test_sentences_keep_abbreviations_and_list_items() -> None:
    text = "The U.N. Security Council met. It adopted No. 2100 unanimously.\n- Kidal: closed.\n## Heading\n| a | b |"
    table = "| Country | Troops |\n|---|---|\n| Chad | 1,427 |\n| Togo | |"
    assert split_sentences(text) == [
        "The U.N. Security Council met.",
        "It adopted No. 2100 unanimously.",
        "Kidal: closed.",
        "a: b.",
    ]
    assert split_sentences(table) == ["Country: Chad; Troops: 1,427.", "Country: Togo."]


def test_an_items_bold_label_frames_it_and_is_not_quoted() -> None:
    text = (
        "1. **A wreck under the wharf.** Diggers found a hull. It was old.\n"
        "- **2018 (cumulative):** 102 personnel had been killed.\n"
        "- **Ann Lee**, 2006 to 2013: a harbour master."
    )
    assert framed_sentences(text) == [
        ("Diggers found a hull.", "A wreck under the wharf", True, 0),
        ("It was old.", "A wreck under the wharf", True, 0),  # one item, one line
        ("2018 (cumulative): 102 personnel had been killed.", "", True, 1),  # a label with a colon is content
        ("Ann Lee , 2006 to 2013: a harbour master.", "", True, 2),
    ]


def test_a_year_that_opens_a_wrapped_line_starts_no_list_item() -> None:
    wrapped = clean_text("The plan was published on 14 March\n2004. It proposed one line.\n1. First item.")
    assert split_sentences(wrapped) == [
        "The plan was published on 14 March 2004.",
        "It proposed one line.",
        "First item.",
    ]


def test_list_items_are_framed_by_the_line_that_leads_in_to_them() -> None:
    text = (
        "The totals differ by source:\n\n- 311 deaths, the UN figure;\n1. 303 deaths, per UN News.\n"
        "The UN figure is the latest. It was given in December."
    )
    lead_in = "The totals differ by source:"
    assert framed_sentences(text) == [
        ("311 deaths, the UN figure;", lead_in, True, 1),
        ("303 deaths, per UN News.", lead_in, True, 2),
        ("The UN figure is the latest.", "", False, 3),
        ("It was given in December.", "", False, 3),
    ]
    assert lead_in not in split_sentences(text)  # it states nothing of its own


def test_tokens_are_stemmed_and_stopwords_dropped() -> None:
    assert tokenize("The withdrawals of 11,200 troops") == ["withdraw", "11200", "troop"]
    # A one-digit number is content (the day of "1 July 2024"); a one-letter word is not.
    assert content_tokens("Who has run it since 1 July 2024 under Plan B?") == [
        "run",
        "1",
        "juli",
        "2024",
        "plan",
    ]


def test_a_document_symbol_holds_no_date() -> None:
    # "In 2023/463 [1]." answered "when" from the symbol S/2023/463; a financial year "2014/15" is a date.
    assert [m.group() for m in DATE.finditer("document S/2023/463 of 16 June 2023")] == ["16 June 2023"]
    assert [m.group() for m in DATE.finditer("the 2014/15 and 2013-2014 budgets")] == ["2014/15", "2013-2014"]


def test_irregular_forms_are_read_as_their_lemma() -> None:
    # "When did the liquidation begin?" met "The liquidation began…" on "liquidation" alone.
    assert tokenize("The liquidation began; men were led") == tokenize("the liquidation begins; a man leads")
    # A form with two readings keeps its own stem: "left" the side is not "leave", "found" not "find".
    assert tokenize("left found") == ["left", "found"]


def test_names_skip_the_capital_that_starts_a_sentence() -> None:
    assert names("Which camp did the Alliance of Sahel States open?") == ["Alliance of Sahel States"]
    assert names("When did Bert Koenders start?") == ["Bert Koenders"]
    # A lone first word read only as an adverb or adjective names nothing; one that may be a verb may be a name.
    assert names("Earlier it had hosted troops from Ghana.") == ["Ghana"]
    assert names("Wane said so.") == ["Wane"]


def test_key_terms_and_grounding() -> None:
    assert key_terms("On 30 June 2023 the Council adopted resolution 2690") >= {"30", "2023", "2690", "june"}
    assert (
        ungrounded_terms("Kidal closed on 31 October 2023", "The Kidal camp closed on 31 October 2023.")
        == set()
    )
    assert ungrounded_terms("Paris closed in 1999", "The Kidal camp closed on 31 October 2023.") == {
        "paris",
        "1999",
    }


def test_an_abbreviation_spelled_like_a_function_word_is_a_name() -> None:
    # "US" is a country, "us" a pronoun; in a question written all in capitals the case tells nothing.
    assert "us" in key_terms("Who won the 2020 US presidential election?")
    assert "us" not in key_terms("Tell us who won the 2020 election.")
    assert key_terms("WHEN DID THE UN LEAVE GAO?") == {"un", "leave", "gao"}


def test_a_hyphenated_word_names_what_its_capitalised_parts_name() -> None:
    # "the African-led force" is found where the documents say "the African force"; a name stays whole.
    assert key_terms("When did the African-led force hand over?") == {"african"}
    assert key_terms("Who was Jean-Bosco Kazura?") == {"jean-bosco", "kazura"}
    assert key_terms("Who claimed it for al-Qaeda?") == {"qaeda"}


def test_an_acronym_is_found_in_its_plural() -> None:
    # The stemmer reads "IEDs" as another word than "IED".
    assert term_in("IED", "The convoy met six IEDs on the way.")
    assert not term_in("IED", "The convoy met six mines on the way.")


def test_term_in_tolerates_one_typo_in_long_words_only() -> None:
    assert term_in("Koendres", "Bert Koenders led the mission.")
    assert not term_in("Gao", "Goa is elsewhere.")
    assert term_in("jean-bosco", "General Jean-Bosco Kazura")
    assert not term_in("1999", "In 1998 and 2000.")
    # Two edits make another name of a six-letter word ("Wagner"/"Wane" has a ratio of 80), a misspelling of a long one.
    assert not term_in("Wagner", "El-Ghassim Wane headed the mission.")
    assert term_in("Timbuktoo", "The Timbuktu camp closed.")


def test_a_number_is_found_spelled_out_or_as_an_ordinal() -> None:
    assert term_in("2", "The league handed two annex depots to the city.")
    assert not term_in("3", "The league handed two annex depots to the city.")
    assert numbers("At its 8568th meeting the Council adopted resolution 2480.") == {"8568", "2480"}
    assert term_in("8568", "at its 8568th meeting")


def test_a_name_matches_its_demonym_but_not_other_words() -> None:
    assert term_in("Chadian", "Chad withdrew 1,425 troops.")
    assert term_in("Togo", "Togolese peacekeepers left.")
    assert term_in("Malians", "Mali held a referendum.")
    assert not term_in("Gaoans", "Gao is a city.")  # a base under four letters matches nothing
    assert not term_in("Chadwickians", "Chad withdrew.")  # the ending is too long for a derived word


def test_may_beside_a_number_is_the_month_not_the_verb() -> None:
    assert tokenize("On 24 May 2021 the president was arrested") == ["24", "may", "2021", "presid", "arrest"]
    assert "may" in content_tokens("What happened in May 2021?") and "may" in key_terms("in May 2021")
    assert tokenize("It may rain") == ["rain"]


def test_abbreviations_are_read_where_the_text_defines_them() -> None:
    found = abbreviations(
        [
            "The UN Office in Mali (UNOM) opened. Improvised explosive devices (IEDs) killed many.",
            "It was reported by the Casablanca Chronicle (AFP).",
        ]
    )
    assert found == {"UNOM": "UN Office in Mali", "IEDs": "Improvised explosive devices"}


def test_the_bounds_of_a_span_of_years_are_no_fact_asked() -> None:
    assert range_bounds("How did the staff grow from 2013 to 2020?") == {"2013", "2020"}
    assert range_bounds("What changed between 2015 and 2018?") == {"2015", "2018"}
    assert range_bounds("What did it do from 2018 to the end of 2023?") == {"2018", "2023"}
    assert range_bounds("How did it grow from 2019 to mid-2021?") == {"2019", "2021"}
    assert range_bounds("What was the budget for 2022-2023?") == set()  # a budget year
    assert range_bounds("What happened in 2013 and in 2020?") == set()  # two years, each asked
