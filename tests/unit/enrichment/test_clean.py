"""Boilerplate removal: the furniture the seeds carry goes, the story stays; arbitrary text never breaks it."""

from __future__ import annotations

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from pipeline.enrichment.clean import BoilerplateRules, clean_text
from pipeline.enrichment.dateline import AgencyTable
from pipeline.enrichment.tables import DATA_DIR, read_toml

AGENCIES = AgencyTable.from_data(read_toml(DATA_DIR / "enrich_agencies.toml"))
RULES = BoilerplateRules.from_data(read_toml(DATA_DIR / "enrich_boilerplate.toml"), AGENCIES.names)


@pytest.mark.parametrize("text, expected", [
    ("A fire at the site of an air attack in Kyiv regionCredit: AFP\nStory.", "A fire at the site of an air attack in Kyiv region\nStory."),
    ("Polish F-16s during a sortieCredit: AP:Associated Press", "Polish F-16s during a sortie"),
    ("Zelensky: 'For now I don't intend to negotiate.' - Photo | video | video 1", "Zelensky: 'For now I don't intend to negotiate.'"),
    ("Story.\n\nRelated Articles\n\nBack to top button", "Story."),
    ("Story.\n\nSource link\n\nLeave a Reply\n\nYour email address will not be published. Required fields are marked *", "Story."),
    ("Story ends. EFE\n\nmos-int/ks", "Story ends."),
    ("Lead.\n\nPutin's daughters sanctioned by the US: 'They hide assets' - guard\n\nMore.", "Lead.\n\nMore."),
    ("  zelensky-1920 Volodymyr Zelensky: 'Liberemo il Paese' Photo Video\n\nKiev advances.", "Kiev advances."),
    ("Lead.\n\nWAR TALKS\n\nTrump hints at a deal as 5 key points hashed out\n\nStory goes on.", "Lead.\n\nStory goes on."),
    ("Lead.\n\nRead also: German MoD says another Patriot system to be sent to Ukraine ASAP\n\nMore.", "Lead.\n\nMore."),
    ("Lead.\n\nOther Topics of Interest Who Is Andrey Belousov? A profile.\n\nMore.", "Lead.\n\nMore."),
    ("Story.\n\nPhoto: EU Satellite Centre", "Story."),
])
def test_seed_furniture_goes(text: str, expected: str) -> None:
    assert clean_text(text, RULES) == expected


def test_repeated_headline_and_the_labels_above_it_go() -> None:
    text = "Conflicts & War\n\nRussia attacks Ukraine\n\nLviv, Dec 19 (EFE).- Russia launched drones."
    assert clean_text(text, RULES, titles=("Russia attacks Ukraine",)) == "Lviv, Dec 19 (EFE).- Russia launched drones."


def test_a_headline_repeated_mid_story_goes_but_the_story_above_stays() -> None:
    text = "First paragraph of the story.\nUkraine Launches Drone Blitz\nSecond paragraph."
    assert clean_text(text, RULES, titles=("Ukraine Launches Drone Blitz",)) == "First paragraph of the story.\nSecond paragraph."


def test_story_lines_that_look_like_furniture_stay() -> None:
    text = ("WAR FRONT - Yesterday evening the air alarm sounded.\n\nMarathon peace talks\n\n"
            "He said the photo was fake, and video showed more.\n\nReuters reported 12 dead.")
    assert clean_text(text, RULES) == text


def test_nothing_left_is_the_empty_string() -> None:
    assert clean_text("Related Articles\n\nBack to top button\n\n   \n", RULES) == ""


def _squeeze(text: str) -> str:
    return "".join(text.split())


def _is_subsequence(small: str, big: str) -> bool:
    it = iter(big)
    return all(c in it for c in small)


@settings(max_examples=300, deadline=None)
@given(st.text())
def test_cleaning_arbitrary_text_never_invents_anything_and_is_stable(text: str) -> None:
    cleaned = clean_text(text, RULES, titles=(text[:20],))
    assert _is_subsequence(_squeeze(cleaned), _squeeze(text))
    assert clean_text(cleaned, RULES, titles=(text[:20],)) == cleaned


WORDS = ["russia", "launched", "drones", "at", "kyiv", "overnight", "officials", "said", "the", "attack", "photo", "video",
         "credit", "reply", "source", "link", "related", "articles", "top", "guard", "war", "talks", "energy", "grid"]
SENTENCES = st.lists(st.sampled_from(WORDS), min_size=4, max_size=14).map(lambda w: " ".join([w[0].title(), *w[1:]]) + ".")


@settings(max_examples=200, deadline=None)
@given(st.lists(SENTENCES, min_size=1, max_size=6))
def test_plain_story_paragraphs_survive_word_for_word(paragraphs: list[str]) -> None:
    text = "\n\n".join(paragraphs)
    assert clean_text(text, RULES).split() == text.split()
