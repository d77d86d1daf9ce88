"""Datelines and agencies: EFE, AP and Reuters styles; credits and sign-offs name agencies too."""

from __future__ import annotations

import pytest

from pipeline.enrichment.dateline import AgencyTable, find_dateline
from pipeline.enrichment.tables import DATA_DIR, read_toml

AGENCIES = AgencyTable.from_data(read_toml(DATA_DIR / "enrich_agencies.toml"))
CANONICAL = {"Kiev": "Kyiv", "Kyiv": "Kyiv"}


def place(name: str) -> str:
    return CANONICAL.get(name, name)


@pytest.mark.parametrize(
    "text, published, places, date, agency",
    [
        (
            "Lviv/Moscow, Dec 19 (EFE).- Russia launched drones.",
            "2022-12-19T00:00:00Z",
            ["Lviv", "Moscow"],
            "2022-12-19",
            "EFE",
        ),
        ("KIEV, Ukraine (AP) — Russia fired missiles.", None, ["Kyiv"], None, "AP"),
        ("MOSCOW, Dec 31 (Reuters) - Russia said.", "2023-01-02T08:00:00Z", ["Moscow"], "2022-12-31", "Reuters"),
        ("Rome, 27 August 2024 (ANSA) - Meloni said.", None, ["Rome"], "2024-08-27", "ANSA"),
        ("Conflicts & War\nKyiv, Mar 3 (AFP) - Air raid.", None, ["Kyiv"], "Mar 3", "AFP"),
        (
            "Poroshenko's Move Met With Memes WASHINGTON (Sputnik) — Hundreds of soldiers.",
            None,
            ["Washington"],
            None,
            "Sputnik",
        ),
    ],
)
def test_datelines(text: str, published: str | None, places: list[str], date: str | None, agency: str) -> None:
    dateline = find_dateline(text, AGENCIES, place, published)
    assert (dateline.places, dateline.date, dateline.agency) == (places, date, agency)


@pytest.mark.parametrize(
    "text",
    [
        "Russia fired missiles, officials said (Reuters reported nothing). Then more.",
        "The talks (in Geneva) went on.",
        "No dateline here at all.",
    ],
)
def test_not_datelines(text: str) -> None:
    assert find_dateline(text, AGENCIES, place, None) is None


def test_agencies_from_credits_signoffs_and_citations_in_order() -> None:
    raw = (
        "A fire in Kyiv regionCredit: AFP\nJets scrambledCredit: Reuters\nPolish F-16sCredit: AP:Associated Press\n"
        "Officials told Interfax the plant was safe.\nThe end. EFE"
    )
    assert AGENCIES.agencies_in(raw) == ["AFP", "Reuters", "AP", "Interfax", "EFE"]


def test_agency_names_in_ordinary_prose_are_not_credits() -> None:
    assert AGENCIES.agencies_in("The AP style guide and a Reuters building were mentioned.") == []
