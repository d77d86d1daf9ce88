"""article_id: canonical URLs and normalised text."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from pipeline.identity import article_id, canonical_url, normalise_text, source_domain, valid_article_id


@pytest.mark.parametrize(
    ("url", "expected"),
    [
        ("https://Example.COM/News/Story", "https://example.com/News/Story"),
        ("https://example.com/news/story/", "https://example.com/news/story"),
        ("https://example.com/news/story#comments", "https://example.com/news/story"),
        ("https://example.com/a?utm_source=tw&utm_medium=social&id=7", "https://example.com/a?id=7"),
        ("https://example.com/a?fbclid=XYZ&gclid=1&ref=home", "https://example.com/a"),
        ("https://example.com/a?b=2&a=1", "https://example.com/a?a=1&b=2"),
        ("HTTPS://example.com:443/a", "https://example.com/a"),
        ("http://example.com:8080/a/", "http://example.com:8080/a"),
        ("https://example.com", "https://example.com/"),
        ("https://example.com/", "https://example.com/"),
        ("https://example.com//a//b", "https://example.com/a/b"),
    ],
)
def test_canonical_url(url: str, expected: str) -> None:
    assert canonical_url(url) == expected


def test_same_article_pulled_twice_has_same_id() -> None:
    a = article_id("https://WWW.ansa.it/sito/notizie/mondo/2024/08/27/kiev.html?utm_campaign=rss#top", "T", "x")
    b = article_id("https://www.ansa.it/sito/notizie/mondo/2024/08/27/kiev.html/", "Other title", "other text")
    assert a == b == "4058e8607f1a4e9b"


def test_id_golden_values() -> None:
    # Fixed values: changing how ids are derived orphans every stored id, so it must be deliberate.
    assert article_id("https://example.com/a", None, "ignored") == "2dce0a4c50441bfc"
    assert article_id("https://EXAMPLE.com/a/#x", "t", "y") == "2dce0a4c50441bfc"
    assert article_id(None, "kiev recaptures", "zelensky said no.") == "a861b714842e2455"


def test_different_paths_differ() -> None:
    assert article_id("https://example.com/a", None, "x") != article_id("https://example.com/b", None, "x")


def test_id_without_url_from_normalised_title_and_body() -> None:
    a = article_id(None, "Kiev  recaptures", "Zelensky  SAID\n\nno.")
    b = article_id(None, "kiev recaptures", "zelensky said no.")
    assert a == b
    assert a != article_id(None, "kiev recaptures", "zelensky said yes.")


def test_relative_url_is_an_error() -> None:
    with pytest.raises(ValueError, match="not an absolute URL"):
        canonical_url("/news/story")


def test_source_domain_drops_www() -> None:
    assert source_domain("https://WWW.Reuters.com/world/") == "reuters.com"
    assert source_domain(None) is None


@given(st.text())
def test_normalise_text_is_idempotent(text: str) -> None:
    once = normalise_text(text)
    assert normalise_text(once) == once
    assert "  " not in once


@given(
    st.from_regex(r"https?://[A-Za-z][A-Za-z0-9.-]{0,20}\.[a-z]{2,5}(/[A-Za-z0-9._~-]{0,10}){0,4}/?", fullmatch=True),
    st.dictionaries(
        st.from_regex(r"[a-z]{1,8}", fullmatch=True), st.from_regex(r"[a-z0-9]{0,6}", fullmatch=True), max_size=4
    ),
)
def test_canonical_url_is_idempotent(base: str, params: dict[str, str]) -> None:
    url = base + ("?" + "&".join(f"{k}={v}" for k, v in params.items()) if params else "")
    once = canonical_url(url)
    assert canonical_url(once) == once
    assert valid_article_id(article_id(url, None, "x"))
