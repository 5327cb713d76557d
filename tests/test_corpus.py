"""The corpus: every document parses, the seed article is intact, the reports cover facts F01-F114."""

import hashlib
import re
from datetime import date
from pathlib import Path

import pytest

from rag.ingest import parse_front_matter

CORPUS = Path(__file__).resolve().parent.parent / "corpus"
SEED = CORPUS / "2023-12-08-afp-mopti-camp-handover.txt"
# sha256 of ../shared/seed/minusma-mopti-handover.txt (2,479 bytes), taken when the seed was copied in.
SEED_SHA256 = "d0223e9a2247de1e631d8434e4ff22492fb44420c4e9daeea18daa3c360a27c2"
REPORTS = sorted(p for p in CORPUS.glob("*.md") if p.name != "README.md")
ALL_FACTS = {f"F{n:02d}" for n in range(1, 100)} | {f"F{n}" for n in range(100, 115)}


def front_matter(path: Path) -> tuple[dict, str]:
    return parse_front_matter(path.read_text(encoding="utf-8"))


@pytest.mark.parametrize("path", [SEED, *REPORTS], ids=lambda p: p.name)
def test_document_has_valid_front_matter(path: Path) -> None:
    meta, body = front_matter(path)
    assert isinstance(meta.get("title"), str) and meta["title"].strip()
    assert isinstance(meta.get("date"), date), "date must be a YYYY-MM-DD date"
    assert len(body.split()) > 100


def test_seed_article_is_verbatim() -> None:
    meta, body = front_matter(SEED)
    assert meta["source"] == "AFP news report as published in December 2023"
    assert meta["date"] == date(2023, 12, 8)
    assert hashlib.sha256(body.encode("utf-8")).hexdigest() == SEED_SHA256


def test_at_least_six_reports_with_sources() -> None:
    assert len(REPORTS) >= 6
    for path in REPORTS:
        meta, body = front_matter(path)
        assert meta.get("sources"), f"{path.name} lists no sources"
        sections = re.split(r"^## ", body, flags=re.M)[1:]
        assert sections, f"{path.name} has no sections"
        for section in sections:
            assert "Sources:" in section, f"{path.name}: section {section.splitlines()[0]!r} names no source"


def test_reports_write_dates_out() -> None:
    for path in REPORTS:
        _, body = front_matter(path)
        assert not re.search(r"\b\d{4}-\d{2}-\d{2}\b", body), f"{path.name} has an ISO date in its text"


def test_fact_ids_cover_the_whole_fact_sheet() -> None:
    covered: dict[str, list[str]] = {}
    for path in REPORTS:
        meta, _ = front_matter(path)
        for fact in meta.get("facts", []):
            assert re.fullmatch(r"F\d{2,3}", fact), f"{path.name}: bad fact id {fact!r}"
            covered.setdefault(fact, []).append(path.name)
    assert set(covered) == ALL_FACTS, f"missing: {sorted(ALL_FACTS - set(covered))}"


@pytest.mark.parametrize(
    ("figure", "report"),
    [
        # Where sources disagree, each figure is given (spot checks of the flagged facts).
        ("12,640", "01-mandate-and-resolutions-2013-2022.md"),
        ("1,140 police", "01-mandate-and-resolutions-2013-2022.md"),
        ("6,039", "01-mandate-and-resolutions-2013-2022.md"),
        ("65 countries", "04-strength-contributors-and-budget.md"),
        ("1.171 billion", "04-strength-contributors-and-budget.md"),
        ("more than 180", "05-casualties.md"),
        ("304", "05-casualties.md"),
        ("8 dead", "05-casualties.md"),
        ("4 August 2023", "06-withdrawal-2023-camp-by-camp.md"),
        ("ninth among the twelve camps", "06-withdrawal-2023-camp-by-camp.md"),
        ("22 March", "07-mali-rebellion-coups-and-algiers-agreement.md"),
        ("17 September 2023", "08-alliance-of-sahel-states-and-ecowas.md"),
    ],
)
def test_disagreeing_figures_are_all_reported(figure: str, report: str) -> None:
    assert figure in (CORPUS / report).read_text(encoding="utf-8")
