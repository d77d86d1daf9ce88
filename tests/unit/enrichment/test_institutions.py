"""Government bodies named by their country: one canonical name per body and country, for any country listed."""

from __future__ import annotations

import pytest

from pipeline.enrichment.institutions import InstitutionTable
from pipeline.enrichment.tables import DATA_DIR, read_toml

TABLE = InstitutionTable.from_data(read_toml(DATA_DIR / "enrich_institutions.toml"))


@pytest.mark.parametrize(
    "text, name",
    [
        ("the Russian foreign ministry said on Friday", "Ministry of Foreign Affairs (Russia)"),
        ("Britain’s defence ministry said in its daily update", "Ministry of Defence (United Kingdom)"),
        ("the Ministry of Foreign Affairs of Belarus announced", "Ministry of Foreign Affairs (Belarus)"),
        ("the Lithuanian Ministry of Defence confirmed", "Ministry of Defence (Lithuania)"),
        ("a statement from the Finnish interior ministry", "Ministry of Internal Affairs (Finland)"),
        ("The German government says there is no reason", "Government of Germany"),
        ("Ukraine's military says the strike failed", "Armed Forces of Ukraine"),
        ("the Taiwanese Foreign Ministry's account", "Ministry of Foreign Affairs (Taiwan)"),
        ("The Ukrainian presidency said", "Office of the President of Ukraine"),
        ("Poland's Senate backed the resolution", "Senate of Poland"),
        ("the Belarusian Constitutional Court ruled", "Constitutional Court of Belarus"),
        ("the US defense ministry", "United States Department of Defense"),
        ("the American government", "Government of the United States"),
        ("the Dutch central bank", "Central Bank of the Netherlands"),
        # a treasury is a country's ministry of finance, under the name its country gives it
        ("the U.S. Treasury said it had blacklisted 22 people", "United States Department of the Treasury"),
        ("the US Treasury Department said", "United States Department of the Treasury"),
        ("Britain's Treasury has drawn up plans", "HM Treasury"),
        ("the Ukrainian finance ministry", "Ministry of Finance (Ukraine)"),
        # an embassy named with its host country or city is the embassy there, titled as Wikipedia titles it
        ("the Embassy of Belarus in Russia organised it", "Embassy of Belarus, Moscow"),
        ("a counsellor of the Belarusian Embassy in the Russian Federation", "Embassy of Belarus, Moscow"),
        ("the Polish embassy in the United States said", "Embassy of Poland, Washington, D.C."),
        ("the US Embassy in Kiev said", "Embassy of the United States, Kyiv"),
        ("the Russian embassy said", "Embassy of Russia"),
        # countries beyond Europe's and the war's news
        ("The Tunisian interior ministry said", "Ministry of Internal Affairs (Tunisia)"),
        ("the Kenyan government said", "Government of Kenya"),
        ("the US embassy in Nairobi", "Embassy of the United States, Nairobi"),
        ("the Russian embassy in Russia", "Embassy of Russia"),
        # a chamber of many countries' parliaments; some are known by their own names
        ("the House of Representatives of Belarus adopted", "House of Representatives of Belarus"),
        ("the Australian House of Representatives", "Australian House of Representatives"),
        ("the US House of Representatives", "United States House of Representatives"),
        ("the Royal Australian Air Force", "Royal Australian Air Force"),
        # parliaments and armed forces known by their own names
        ("the chairman of the Estonian parliament said", "Riigikogu"),
        ("Israel's parliament voted", "Knesset"),
        ("the German parliament debated", "Bundestag"),
        ("Israel’s military said", "Israel Defense Forces"),
        ("Germany's armed forces", "Bundeswehr"),
        ("the Dutch parliament", "States General of the Netherlands"),
        # central banks by the names they go by (the alias table knows them: "the Bank of Russia" is one of them)
        ("Japan's central bank raised rates", "Bank of Japan"),
        ("the Ukrainian central bank", "National Bank of Ukraine"),
        ("Russia's central bank", "Central Bank of Russia"),
    ],
)
def test_bodies_get_one_canonical_name(text: str, name: str) -> None:
    assert [m.name for m in TABLE.find(text)] == [name]


@pytest.mark.parametrize(
    "text",
    [
        "Russian military vehicles crossed the border",  # an adjective, not the body
        # after a possessive too, before a hyphen or a noun it qualifies
        "The sanctions target Russia’s military-industrial base",
        "North Korea supports Russia’s military aggression toward Ukraine",
        "Poland's army equipment is ageing",
        "the ministry said",  # no country: the alias table and the article decide
        "russian foreign ministry",  # a country is written with a capital
    ],
)
def test_no_body_without_its_country(text: str) -> None:
    assert TABLE.find(text) == []


def test_spans_point_at_the_words() -> None:
    text = "Officials at the Estonian foreign ministry and the Latvian Defence Ministry agreed."
    found = TABLE.find(text)
    assert [text[m.start : m.end] for m in found] == ["Estonian foreign ministry", "Latvian Defence Ministry"]


@pytest.mark.parametrize(
    "text, names",
    [
        (
            "The U.S. Attorney’s Office for the Southern District of New York is probing the committee.",
            ["United States Attorney for the Southern District of New York"],
        ),
        (
            "the U.S. Attorney’s Office in the District of Columbia",
            ["United States Attorney for the District of Columbia"],
        ),
        (
            "In December, the Eastern District of Virginia charged two men.",
            ["United States Attorney for the Eastern District of Virginia"],
        ),
        (
            "federal prosecutors and the US Attorneys for the District of South Dakota",
            ["United States Attorney for the District of South Dakota"],
        ),
        # a court, a bare district without its prosecutor, a district of another country: no prosecutor
        ("the U.S. District Court for the Southern District of New York ruled", []),
        ("He moved to the District of Columbia in May.", []),
        ("the Southern District of Kyiv", []),
    ],
)
def test_federal_prosecutors_by_district(text: str, names: list[str]) -> None:
    found = TABLE.prosecutors(text)
    assert [f.name for f in found] == names
    for f in found:
        assert text[f.start : f.end] == f.surface


def test_security_services_and_a_state_department_in_lower_case() -> None:
    found = TABLE.find("a US state department spokesperson said; the Ukrainian security service published videos")
    assert [f.name for f in found] == ["United States Department of State", "Security Service of Ukraine"]
    assert [f.name for f in TABLE.find("Russia's security service detained him")] == ["Federal Security Service"]


def test_two_chambers_committees_named_at_once_are_two_committees() -> None:
    from pipeline.enrichment.institutions import chamber_committees

    chambers = {"house", "senate"}
    text = "a letter to leaders on the House and Senate Judiciary Committees on Sunday"
    assert [f.name for f in chamber_committees(text, chambers)] == [
        "House Judiciary Committee",
        "Senate Judiciary Committee",
    ]
    assert chamber_committees("the Red and Blue Ribbon Committees", chambers) == []  # not chambers


def test_an_embassy_named_without_its_host_is_the_one_the_article_names_with_one() -> None:
    text = "Biden ordered the evacuation of the US embassy in Kiev. The U.S. Embassy said a plane had landed."
    assert [m.name for m in TABLE.find(text)] == ["Embassy of the United States, Kyiv"] * 2
    # two hosts named: the bare one stays bare
    text = "The US embassy in Moscow and the US embassy in Kyiv closed. The US embassy said nothing."
    assert [m.name for m in TABLE.find(text)][-1] == "Embassy of the United States"


def test_a_central_bank_is_the_table_entity_its_other_names_reach() -> None:
    from pipeline.enrichment.aliases import AliasTable

    aliases = AliasTable.from_data(read_toml(DATA_DIR / "enrich_entities.toml"))
    [found] = TABLE.find("Russia's central bank said")
    assert aliases.lookup("Bank of Russia").name == found.name == "Central Bank of Russia"
