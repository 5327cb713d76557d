"""Every threshold and weight of the answer engine, each with how it was chosen."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class Policy:
    """The tunable part of retrieval and answers, in one place; tuned on the dev split only (eval/questions)."""

    # Sentence score = (1 - w) * cosine + w * IDF-weighted word overlap. 0.4 was the previous engine's value; on
    # the dev split (English items, extractive) 0.3 and 0.4 scored 63.9%, 0.5 63.4%, so it stays.
    overlap_weight: float = 0.4
    # Added to a sentence holding the kind of value asked for (a date for "when"): a tie-breaker between
    # neighbouring sentences. Dev: 0 → 63.4%, 0.1 → 63.9%, 0.2 → 64.4% (one item); kept small, as a tie-breaker.
    # Session 20, over every dev item and the second corpus's dev file: 0.05 −2 items, 0.15 +3 (all on the second
    # corpus, none lost anywhere), 0.2 +3 (one blind dev item lost), 0.3 −5: 0.15.
    answer_type_bonus: float = 0.15
    # Subtracted from a sentence's score for each of the question's names its passage lacks: at 10 such sentences
    # come after all others. Dev: 10 → 62.7%, 0.2 → 62.7%, 0.1 → 62.2% (a demonym of the corpus's country buries
    # the right passage at 10, and a softer cost lets passages about another place in elsewhere).
    name_gap_penalty: float = 10.0
    # Subtracted from a sentence dated only by years other than the question's ("2017: 21 were killed" to "how many
    # were killed in 2022?"): a tie-breaker, as a sentence may also be dated by its report. Session 23, dev and the
    # second corpus: 0.1 → +5 −2 items, 0.3 → +7 −4; the smaller.
    other_year_penalty: float = 0.1
    # Subtracted, in lists and explanations, from a sentence that holds no name, date or figure beyond the
    # corpus's generic ones ("The totals differ between sources."): it speaks about the topic without stating
    # anything. Dev lists and explanations (39 items): 0 and 0.05 → 21 right, 0.1, 0.2 and 1 → 22; the smallest
    # value that works, since it only has to put such a sentence behind ones of about the same score.
    vague_penalty: float = 0.1
    # A token in more than this share of chunks is generic in this corpus (its own name, its country): as a name
    # it singles out nothing, so it is no key term and never a "who" answer. Dev: 0.1 → 62.9%, 0.2 → 63.9%, 0.3 →
    # 64.4% (one item). Until session 7 generic words also weighed nothing in overlaps; in a small corpus that
    # left one incidental word to decide ("open" and "rail" were generic in the 76-chunk second corpus), so they now
    # weigh their IDF like any word: dev 71.1% → 72.4% with the refitted gate (cross-validated 68.1% → 69.7%).
    generic_df: float = 0.2
    # Words found only in a question's closing aside in brackets, which is where a follow-up carries what it refers
    # to ("Who took it over? (Lagos camp August)"), weigh this share of their IDF: they frame what is asked but are
    # not it. Dev: 1 (before session 7) and 0.5 → 72.9%, 0.25 and 0.1 → 73.3%, 0 → 72.9%; second corpus unchanged.
    aside_weight: float = 0.25
    # "How many soldiers…" is answered by a count of troops: a counted word and a unit this close (MiniLM cosine)
    # name the same thing. Measured: soldiers~troops 0.89, cops~police 0.93; tanks~troops 0.54, staff~personnel
    # 0.71, soldiers~police 0.49. Set between the near-synonyms and the rest, not tuned on the eval.
    unit_synonym_min: float = 0.8
    # A question word the corpus never uses ("boss") counts in a sentence's ranking (not in the gate's features)
    # by the MiniLM cosine of the sentence's closest word ("head"), from this floor. Measured pairs: boss~head 0.50, boss~chief
    # 0.62, boss~leader 0.66, scrapped~terminated 0.50, quit~withdraw 0.58; unrelated boss~commander 0.45,
    # boss~mission 0.41, boss~period 0.37. Session 16, for words the corpus never uses: floor 0.5 → dev 79.5% →
    # 80.0%, second corpus 55.2% → 58.3%; 0.6 → 80.0% and 56.2%; credited in the overlap the gate reads, 0.5 lost
    # dev items (79.3%). For every word a sentence lacks: dev 80.2%, second corpus 59.4% (0.6: 79.5%, 57.3%), but
    # dev churned (+5 −4 items) and a cold question took 1.5× as long, so it stays with words the corpus lacks.
    stand_in_min_similarity: float = 0.5
    # A question word unknown to the corpus is read as the closest corpus word at or above this rapidfuzz
    # ratio (one typo in a six-letter word is 83).
    typo_min_ratio: float = 80.0
    # A question is in the documents' language when this share of its words are English function words or
    # corpus words; below it a detector decides. On the dev split 0.7, 0.8 and 0.9 each misread 1 of 225 questions
    # (0.6: 5); 0.8 sits in the middle. A detector alone misread colloquial English as Pidgin or Tagalog.
    # Session 22, over every dev question (927 turns) and the second corpus's: a French question with "de", "la",
    # "pays", "personnel" (words the corpus's French sources also use) reached 0.82 and was read as English; 0.85 to
    # 1.0 misread none but a three-word question opening with a mistyped "whos" (Portuguese at every value; a
    # mistyped question word now counts as English), and the detector, restricted to the languages above, read no
    # English question of either corpus as another language: 0.9, inside that range.
    known_words_same_language: float = 0.9
    # A line label ("Sources:") found in this share of the documents (and at least three) marks boilerplate, never
    # quoted; a label one document uses ("2018/19:") stays. Set by judgment, not tuned: here only "sources" passes.
    boilerplate_share: float = 0.5
    # Hybrid search keeps each search's best this many chunks among its candidates, whatever their fused rank.
    # Session 16: a second-corpus question's only answering chunk was BM25's first and dense's 24th, and fusion left
    # it 13th of 12. Second corpus: 0 → 53.1%, 2 and 4 → 54.2%; dev 79.5% at 0, 2 and 4, 79.3% at 6; the smallest kept.
    kept_per_search: int = 2
    # Answerability: a logistic model over the evidence features (gate.FEATURES), fitted on the dev split by
    # eval/calibrate.py (label: the open gate's answer passes); the threshold is the one with the best gate accuracy
    # there (80.8% on 255 dev items with evidence, eval/questions/fresh.jsonl's dev half included; refusal precision
    # 83.1%, recall 58.7%; refitted in session 8, which chose 0.55 over 0.5 by that rule: the engine scores 80.1% on
    # dev either way). Session 6 added `other_number` (dev 64.4% → 65.3% with the other changes of that step;
    # 5-fold cross-validated on dev 61.7% → 66.4%); session 8 `unnamed_coverage` (cross-validated 73.4% → 75.1%; a
    # hard-match twin added nothing and was dropped) and `counted_value` (cross-validated 77.8% → 78.5%). Tried in
    # session 8 and dropped, no cross-validated gain: the share of the sentence's names the question lacks (AUC
    # 0.49) and the best passage's cosine (AUC 0.60).
    # Session 18 added `other_name` (a sentence that gives the thing of a kind the question names as another:
    # "camp at Tema" to "…its camp at Kumasi?"), its weight fitted on dev with the others held (standardised,
    # as calibrate.py fits; -4.32 in a full refit): cross-validated gate accuracy 77.8% → 78.9%, dev 80.2% → 81.4%
    # (five unanswerable items, none lost); the blind sets' dev halves and the second corpus unchanged.
    # Session 22 added `asked_noun` (for "what X…"/"which X…", X or its closest word by meaning in the sentence),
    # weight 2 fitted on the dev items with the others held, its bias shifted by -2 so a sentence that names X scores
    # as before: gate accuracy 78.5% → 79.8% (5-fold cross-validated 79.6%); the engine +10 −4 items over dev and
    # the blind dev halves (eleven unanswerable items refused: meeting numbers, vote counts, jobs, nationalities),
    # second corpus +2 −2. Counted over every "which" question first, it also refused names ("Which outlet…" → "the
    # Ledger"), which no cosine ties to the noun: −5 more items, so a "which" sentence that names something is left out.
    # Tried in session 6 and reverted: adding 0.2 of a passage's cosine to its sentences' scores, and a gate of
    # seven of these features chosen by cross-validated backward elimination, took dev to 74.7% but the test split
    # from 65.1% to 60.5% (refusal recall 63% → 48%): fitted to dev, not better.
    # Session 19: the threshold re-chosen by the same rule over every dev item with evidence (633, the blind sets'
    # dev halves among them, where the gate had refused answerable questions far more often): 0.50 (gate accuracy
    # 79.3%; 0.55: 78.7%). The engine: dev's 435 older items 81.8% either way, the blind dev halves +9 items, the
    # second corpus unchanged. `eval/calibrate.py --keep-weights` gives both thresholds for these weights. A full
    # refit on the 633 items (its thresholds 0.50 and 0.55) did worse: dev −1, the blind dev halves −8 items.
    gate_weights: tuple[float, ...] = (
        1.87,
        -0.4,
        1.46,
        3.04,
        -0.28,
        -0.84,
        -0.4,
        -0.65,
        -1.55,
        4.09,
        -2.88,
        1.17,
        3.91,
        -4.3,
        2.0,
    )
    gate_bias: float = -11.31
    gate_threshold: float = 0.5
    # A list or an account ("Which events took place in X?", "How did X rise…?") asks what the documents say on a
    # topic; a refused one is a lost answer more often than a wrong one avoided. Session 19, the threshold for these
    # two forms alone, over the dev items of those forms (201): 0.3 to 0.45 best and alike; 0.4 in the middle. The
    # engine: fresh7's dev half +4 items (two lists, a multi-turn, a plain), every other set unchanged.
    gathered_threshold: float = 0.4
    # Disagreeing figures: another sentence counts as an answer to the same question when it scores at least this
    # share of the best one and holds the question's names (set by judgment; kept from the previous engine). For
    # "the last…", the latest-dated of those answers comes first (session 17: dev 80.0% → 80.2%, one item).
    # Session 20, over every dev item: 0.75 +3 items, 0.8 +4, 0.85 +3, 0.95 −6 against 0.9; 0.8 in the middle.
    # With the bonus above: +5 (two dev, three second-corpus items), none lost.
    disagreement_ratio: float = 0.8
    # A sentence giving the best one's answer more precisely ("25 April 2013" for "2013") answers in its place when
    # it scores at least this share of the best and holds the question's names: agreeing is evidence, so it needs
    # less than a disagreement does. Session 15, dev: 0.5 to 0.8 → 79.5%, 0.9 → 79.1% (a French question asked
    # twice, whose third-ranked sentence gives the day); the second corpus unchanged at 0.6.
    refine_ratio: float = 0.6
    # Lists and explanations gather sentences scoring at least this share of the best one. Dev: list 0.7 and 0.8
    # → 63.9%, 0.9 → 63.4%; explanations 0.75 and 0.85 → 63.9%, 0.95 → 62.4%. The caps are reading lengths.
    # Session 20, re-chosen over every dev item (the blind sets' dev halves and the second corpus's dev file among
    # them): lists 0.6 to 0.75 alike (+3 items against 0.8; 0.85: −5), 0.7 in the middle; explanations 0.65 to 0.8
    # alike (+3 to +5; 0.9: −3), 0.75 in the middle; both together +8 items, none lost. Five sentences for an
    # explanation in place of four: +2 more, none lost; eight list items in place of six: no change then. Session 32,
    # with a list over a span of years kept to it and read over `list_passages`: eight items +2 on dev (the two
    # wordings of "which resolutions renewed it between 2014 and 2022?", whose items fill eight chunks), none lost.
    list_ratio: float = 0.7
    explain_ratio: float = 0.75
    max_list_items: int = 8
    # A list question keeps at least this many passages (the settings' top_k for any other): its items sit in more
    # chunks than a fact's sentence. Session 32, dev: 5 → 8 with eight items +2, none lost; alone no change.
    list_passages: int = 8
    # A list or explanation leaves out a sentence this close (MiniLM cosine) to one it already quotes: two documents
    # stating the same fact. Set by judgment, not tuned: a near-verbatim repeat measured 0.93, the same fact told in
    # other words 0.80, two different camp closures 0.76; only the first kind is left out.
    repeat_similarity: float = 0.9
    # A list answer that quotes an item of a document's list also quotes the items next to it scoring at least
    # this share of the best sentence ("Who have been the chairs…" → the whole list under "Chairs of the board").
    # Session 10, second-corpus dev: 0.5 → one list item more right (53.1% → 54.7%), 0.6 → none; the product's dev
    # split and the notes corpus unchanged at both, item for item.
    list_neighbour_ratio: float = 0.5
    # A list or explanation asked about several named subjects ("…at Lagos, Accra and Lomé?") adds, for each subject
    # no chosen sentence names, the best sentence naming it, if it scores at least this share of the best one.
    subject_ratio: float = 0.5
    # Lists and explanations read this many of the best passages on into their next chunk, since 400-character
    # chunks cut accounts short. Dev: 0 → 63.4%, 1 and 3 → 63.9%.
    read_on_passages: int = 3
    # The most chunks a passage read on takes after its own: past the next one, only while they go on with a list
    # ("…late, for four reasons." then one chunk per reason). Set by judgment, as a reading length like
    # max_list_items; session 29: the second corpus +1 item (a why answered by the four reasons), dev unchanged.
    list_read_on: int = 6
    max_explain_sentences: int = 5
    # A generated sentence is kept when its cosine to some sentence of the passage it cites reaches this. Measured
    # with MiniLM on corpus sentences: paraphrases 0.68-0.89, unrelated 0.12; a neighbouring sentence on another
    # camp reached 0.81, so this check only backs the names-and-numbers check, which tells those apart.
    verify_min_similarity: float = 0.6
    # When fewer than this share of a capable model's sentences survive verification, the extractive answer is
    # given instead (set by judgment: no capable model is available here to tune it on).
    verify_min_kept: float = 0.5
    # Writing stops after this many generated sentences in a row fail verification (or at a repeated one): the
    # model has left the passages, and waiting for the time limit only delays the extractive answer. Set by
    # judgment: answers run two to six sentences; the bundled base model, asked to write, loops on made-up questions
    # until the limit (30 s per answer in tests/test_llm_backends.py before this rule).
    max_unverified_in_a_row: int = 3


DEFAULT_POLICY = Policy()
