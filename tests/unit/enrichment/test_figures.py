"""Figures: numbers with what they count, normalised; not years, model names or plan sizes."""

from __future__ import annotations

import re

import pytest
from hypothesis import given
from hypothesis import strategies as st

from pipeline.enrichment import figures
from pipeline.enrichment.figures import FigureRules
from pipeline.enrichment.numbers import parse_number
from pipeline.enrichment.tables import DATA_DIR, read_toml

RULES = FigureRules.from_data(read_toml(DATA_DIR / "enrich_figures.toml"))


@pytest.mark.parametrize(
    "text, value",
    [
        ("653", 653),
        ("10,000", 10_000),
        ("1,294", 1294),
        ("1.5", 1.5),
        ("forty", 40),
        ("Three", 3),
        ("twenty-five", 25),
        ("ninety nine", 99),
        ("eleven", 11),
        ("15½", 15.5),
        ("2¾", 2.75),
    ],
)
def test_numbers_in_digits_and_words(text: str, value: float) -> None:
    assert parse_number(text) == value


def test_scales() -> None:
    assert parse_number("a", "hundred") == 100 and parse_number("1.5", "billion") == 1.5e9 and parse_number("a") is None


@pytest.mark.parametrize(
    "sentence, text, value, unit",
    [
        (
            "Moscow bombed the country with 653 drones and 53 hypersonic and ballistic missiles.",
            "53 hypersonic and ballistic missiles",
            53,
            "missile",
        ),
        (
            "with more than 100 artillery systems reportedly being sent",
            "more than 100 artillery systems",
            100,
            "artillery system",
        ),
        ("Moscow would have another 10,000 Chechen soldiers ready", "10,000 Chechen soldiers", 10_000, "soldier"),
        ("they control 1,294 square kilometers of Russian territory", "1,294 square kilometers", 1294, "km²"),
        ("594 Russian soldiers were taken prisoner", "594 Russian soldiers", 594, "soldier"),
        ("Ukrainian air defences shot down 585 drones, 29 cruise missiles", "585 drones", 585, "drone"),
        ("and about a hundred settlements.", "about a hundred settlements", 100, "settlement"),
        ("Russia launched 34 drone strikes in the early hours", "34 drone strikes", 34, "drone strike"),
        ("It pledged $1.5 billion in aid.", "$1.5 billion", 1.5e9, "USD"),
        ("prices rose 12 percent", "12 percent", 12, "%"),
        ("The fund now holds $1.2tn.", "$1.2tn", 1.2e12, "USD"),
        ("It carried 15½ tonnes of grain.", "15½ tonnes", 15.5, "ton"),
        ("It will send A$50m in aid.", "A$50m", 5e7, "AUD"),
        ("The deal is worth US$1.2bn.", "US$1.2bn", 1.2e9, "USD"),
        ("Russia has about 1,500 “peacekeeper” troops there.", "about 1,500 “peacekeeper” troops", 1500, "soldier"),
        ("Since the invasion, the 3 million residents of Moldova", "3 million residents", 3e6, "person"),
    ],
)
def test_claims_are_found_and_normalised(sentence: str, text: str, value: float, unit: str) -> None:
    assert (text, value, unit) in {(f.text, f.value, f.unit) for f in RULES.figures_of(sentence)}


@pytest.mark.parametrize(
    "sentence",
    [
        "Russian Tu-95MS and Tu-160MS strategic bombers attacked.",
        "Ukraine used F-16s supplied by the West.",
        "a revised 19-point plan and the initial 28-point peace plan",
        "one of the biggest attacks in the war",
        "the continuous attacks since 2014 drones",
        "9,500 customers remained without heat and 34,000 without a water supply",
        "two weeks ago, after ten days of talks",
    ],
)
def test_not_claims(sentence: str) -> None:
    found = {f.text for f in RULES.figures_of(sentence)}
    assert found <= {"9,500 customers"}


@given(st.text())
def test_arbitrary_text_never_breaks_and_figures_quote_the_text(text: str) -> None:
    squeezed = " ".join(text.split()).lower()
    for figure in RULES.figures_of(text):
        assert figure.text.lower() in squeezed and figure.value >= 0


_CLAIM_WORDS = st.sampled_from(
    ["about", "nearly", "up to", "more than", "at least", "an estimated", "a", "an", "one", "Twenty-five", "ninety nine",
     "eleven", "10,000", "1.5", "$", "€3", "2¾", "million", "thousand", "people", "troops", "km", "tonnes", "the",
     "killed", "Kyiv", "F-16", "-", ",", ".", "\n", "“peacekeeper”", "and", "or", "civilians", "square kilometres"]
)  # fmt: skip


@given(st.lists(_CLAIM_WORDS, max_size=14))
def test_the_claim_patterns_first_character_gate_drops_no_claim(words: list[str]) -> None:
    # the pattern opens with the characters a claim can start with; without that gate it finds the same claims
    text = " ".join(words)
    gated = RULES.pattern.pattern
    assert gated.startswith("(?=[")
    ungated = re.compile(gated[gated.index("])") + 2 :], re.IGNORECASE)
    assert [m.span() for m in RULES.claims(text)] == [m.span() for m in ungated.finditer(text)]


@given(st.text(alphabet="0123456789.,% percntPERCNT$€£USA-a\n", max_size=40))
def test_percentages_and_money_are_found_as_the_plain_patterns_find_them(text: str) -> None:
    # the percentage pattern opens with its digit and looks behind it; the money scan skips a text without a sign
    plain = re.compile(r"(?<![\w.,])(?P<number>\d{1,3}(?:[.,]\d{1,2})?)\s?(?:%|per\s?cent\b|percent\b)", re.IGNORECASE)
    assert [m.span() for m in figures._PERCENT.finditer(text)] == [m.span() for m in plain.finditer(text)]
    assert [m.span() for m in figures._money_in(text)] == [m.span() for m in figures._MONEY.finditer(text)]


@given(st.integers(min_value=0, max_value=10**9))
def test_digit_numbers_round_trip(n: int) -> None:
    assert parse_number(f"{n:,}") == n and parse_number(str(n)) == n


# --- any number NER marks, with what it counts ----------------------------------------------------------------


@pytest.fixture(scope="module")
def nlp():
    from pipeline.enrichment.model import load_model

    return load_model("en_core_web_sm")


def doc_figures(sentence: str, nlp) -> set[tuple[str, float, str]]:
    found = RULES.figures_of(sentence)
    return {(f.text, f.value, f.unit) for f in found + RULES.figures_in_doc(nlp(sentence), sentence, found)}


@pytest.mark.parametrize(
    "sentence, figure",
    [
        ("Belarus keeps six battalions near the border, officials say.", ("six battalions", 6, "battalion")),
        ("The resolution passed with 92 votes in favour.", ("92 votes", 92, "vote")),
        ("The company reported a net profit of $161.1 billion for the year.", ("$161.1 billion", 161.1e9, "USD")),
        ("Profits were up 46% from the year before.", ("46%", 46, "%")),
        ("The missiles were launched some 1,450km away.", ("some 1,450km", 1450, "km")),
        ("The plan trains up to 10,000 soldiers at a time.", ("up to 10,000 soldiers", 10_000, "soldier")),
        ("Spending will be $45 billion to $55 billion next year.", ("$45 billion to $55 billion", 45e9, "USD")),
        ("Russia seized 6.24m tonnes of storage capacity.", ("6.24m tonnes", 6.24e6, "ton")),
        ("The regulator counted 45 personnel in the office.", ("45 personnel", 45, "personnel")),
        ("Investigators found more than 440 bodies in the forest.", ("more than 440 bodies", 440, "body")),
        ("Washington will send 8,500 U.S. troops to the region.", ("8,500 U.S. troops", 8500, "soldier")),
        # counts of people without the noun: after a verb done to people, before words that refer to them
        ("The blast destroyed a block, killing at least one and wounding six others.", ("six", 6, "person")),
        ("Murders were rare in the Nordic state, a country of 10 million.", ("10 million", 10e6, "person")),
        ("Investigators named 30 suspects, and 25 of them are foreigners.", ("25", 25, "person")),
        (
            "About 100,000 people crossed the border, including 9,000 who have entered since Saturday.",
            ("9,000", 9000, "person"),
        ),
        # percentages NER leaves out, with a decimal comma
        ("Support was highest in Crimea (41%) and lowest in the West (1%).", ("41%", 41, "%")),
        ("The statistical error does not exceed 3,4% in Russia.", ("3,4%", 3.4, "%")),
        # a scale joined by a hyphen, a dozen
        ("The minister said the country has a $35-billion debt to repay.", ("$35-billion", 35e9, "USD")),
        ("Observers from about two dozen member states were turned back.", None),
        # a part of a group counts its members; lives are people
        ("Together with 46 of our foreign partners, we act.", ("46 of our foreign partners", 46, "partner")),
        ("The war has claimed about 14,000 lives since then.", ("about 14,000 lives", 14_000, "person")),
        # a compound modifier between the number and its noun
        ("The rebels freed three pro-Kyiv activists on Monday.", ("three pro-Kyiv activists", 3, "activist")),
        # a number shaped like a year that counts what follows it (NER calls it a date)
        (
            "The poll ran in March. 2032 respondents were interviewed in all regions.",
            ("2032 respondents", 2032, "respondent"),
        ),
        ("The centre interviewed 1603 respondents in 130 towns.", ("1603 respondents", 1603, "respondent")),
    ],
)
def test_numbers_with_what_they_count(sentence: str, figure: tuple | None, nlp) -> None:
    found = doc_figures(sentence, nlp)
    if figure is None:  # "two dozen member states": 24 of them, whatever the counted noun reads as
        assert {value for _, value, _ in found} == {24}
    else:
        assert figure in found


@pytest.mark.parametrize(
    "sentence",
    [
        "The talks lasted three days and ended in March 2022.",
        "A 55-year-old man was detained in 2014.",
        "Turnout fell in 2014 elections and again after the 2019 protests.",
        "The Nord Stream 1 and 2 pipelines were damaged.",
        "The two men met in Geneva.",
        "He was one of the first to arrive.",
    ],
)
def test_dates_ages_names_and_references_are_no_claims(sentence: str, nlp) -> None:
    assert doc_figures(sentence, nlp) == set()


@pytest.mark.parametrize(
    "sentence",
    [
        "The hotline runs 24/7 for anyone who needs it.",
        "One of them said the talks would go on.",
        "He promised to bring the country into the top five global economies.",  # a rank
        "The ambassador told the media in Moscow on 6 may that the concert was a success.",  # a date in lower case
        "Reports came in overnight: One concerned a platoon that was lost near the border.",  # "one" + a verb
    ],
)
def test_ratios_and_picked_out_ones_are_no_figures(sentence: str, nlp) -> None:
    assert not doc_figures(sentence, nlp)


@pytest.mark.parametrize(
    "sentence, low, high, unit",
    [
        ("Between 10 and 12 tanks were lost near the town.", 10, 12, "tank"),
        ("Officials said 20,000-25,000 enemy troops are trying to storm the town.", 20_000, 25_000, "soldier"),
        ("About 20 to 25 million people live in the region.", 20e6, 25e6, "person"),  # the scale of the upper end
        ("Spending will be $45 billion to $55 billion next year.", 45e9, 55e9, "USD"),
        ("They sent 10 to 12 battalions, officials say.", 10, 12, "battalion"),  # a noun NER reads, not the table
    ],
)
def test_a_range_is_one_figure_with_both_ends(sentence: str, low: float, high: float, unit: str, nlp) -> None:
    found = RULES.figures_of(sentence)
    figures = found + RULES.figures_in_doc(nlp(sentence), sentence, found)
    assert [(f.value, f.high, f.unit) for f in figures] == [(low, high, unit)]


@pytest.mark.parametrize(
    "sentence, figures",
    [
        ("Support for the president grew from 60 to 71 percent.", [(60, "%"), (71, "%")]),
        ("The number of drones rose sharply from 300 to 1,200 drones a month.", [(300, "drone"), (1200, "drone")]),
        ("Oil prices fell from $90 to $80 a barrel.", [(90, "USD"), (80, "USD")]),
    ],
)
def test_from_a_number_to_another_after_a_word_of_change_is_two_figures(sentence: str, figures: list, nlp) -> None:
    found = RULES.figures_of(sentence)
    assert sorted((f.value, f.unit, f.high) for f in found + RULES.figures_in_doc(nlp(sentence), sentence, found)) == [
        (value, unit, None) for value, unit in sorted(figures)
    ]


@pytest.mark.parametrize(
    "sentence, figure",
    [
        ("Ireland announced an additional five million euros in humanitarian funding.", (5e6, "EUR")),
        ("Australia pledged an additional $100m of military assistance.", (1e8, "USD")),  # NER ends before "m"
        ("The government found a further two billion dollars for the army.", (2e9, "USD")),
    ],
)
def test_an_article_before_an_amount_is_no_number_of_its_own(sentence: str, figure: tuple, nlp) -> None:
    found = RULES.figures_of(sentence)
    assert [(f.value, f.unit) for f in found + RULES.figures_in_doc(nlp(sentence), sentence, found)] == [figure]


@pytest.mark.parametrize(
    "sentence",
    [
        "The army killed 3 and 12 soldiers surrendered.",  # "and" makes a range only after "between"
        "The court ruled 3-2 on the case of 5 judges.",  # a tally, the lower end not below the upper
    ],
)
def test_a_list_or_a_tally_is_no_range(sentence: str, nlp) -> None:
    found = RULES.figures_of(sentence)
    assert all(f.high is None for f in found + RULES.figures_in_doc(nlp(sentence), sentence, found))


@pytest.mark.parametrize(
    "sentence, figure",
    [
        ("Las Vegas, with over 500 injured, still has no motive.", ("over 500", 500, "person")),
        ("Chechnya (pop. 1.5 million) forced the army to withdraw.", ("1.5 million", 1.5e6, "person")),
        (
            "These are six battalions and one special forces detachment.",
            ("one special forces detachment", 1, "detachment"),
        ),
        ("One man died after picking up a grenade.", ("One man", 1, "man")),
    ],
)
def test_people_after_a_casualty_word_and_one_that_counts(sentence: str, figure: tuple, nlp) -> None:
    assert figure in doc_figures(sentence, nlp)


@pytest.mark.parametrize(
    "sentence",
    ["One shelling, one cannon fire can lead to war.", "One need only look at the map to see it."],
)
def test_one_as_a_determiner_is_no_claim(sentence: str, nlp) -> None:
    assert not doc_figures(sentence, nlp)


def test_a_percentage_is_a_claim_of_its_sentence(nlp) -> None:
    # a poll's equal shares of different groups are different claims; one sentence saying a share twice makes one
    text = (
        "Support is lowest in the Centre (5%) and the West (1%). Among the young, 5% want unification. "
        "It fell by 4% in May and by 4% in June."
    )
    values = sorted(f.value for f in RULES.figures_of(text) if f.unit == "%")
    assert values == [1, 4, 5, 5]


def test_a_bare_dollar_is_the_dollar_of_the_country_the_article_is_about() -> None:
    figures = RULES.figures_of("Australia will send $50m in aid and US$10m in loans.")
    local = RULES.in_local_dollars(figures, {"Australia": 3, "Australian": 1, "United States": 1})
    assert {(f.text, f.unit) for f in local} == {("$50m", "AUD"), ("US$10m", "USD")}
    assert RULES.in_local_dollars(figures, {"Australia": 2, "United States": 2}) == figures, "as often as the US"
    assert RULES.in_local_dollars(figures, {"Canada": 1}) == figures, "named once"
