"""Recall and precision of the enrich stage per kind, on the hand-labelled golden set (benchmarks/golden/).

The golden file holds ids and labels only: entity names, quote speakers with a hash of each quote's first
words, figures by value and line, boilerplate by line and token span with a hash of its text, junk by the hash
of its folded surface. The texts are read from ../shared/corpus/articles.jsonl in place (never copied into the
repository); without the corpus this script says so and stops.

Stream: every English corpus article goes through one stage in published order, in batches of 50, with the
state the stage writes fed back to it (as the runner does), so what the stage learns from the stream (lines a
source repeats) is learned as it would be in production. The corpus has no URLs: its articles are grouped by
the outlets its crawl queried ("bbc.co.uk / theguardian.com / telegraph.co.uk"), and that group is the source
domain.

Kinds: persons, places, organizations (canonical names; an entry lists the acceptable spellings), quote
speakers (a labelled quote with a named speaker is recalled when the stage finds the quote and names that
speaker; precision is over the stage's quotes that name a speaker), figures (value, and line when the stage's
text can be found), boilerplate (a labelled piece is removed when every token of it is gone from text_clean;
precision counts story sentences lost against it), junk (labelled tempting spans: the share not listed).

    .venv/bin/python benchmarks/eval_enrich.py            # score, write benchmarks/results/enrich_eval.json
    .venv/bin/python benchmarks/eval_enrich.py --explain  # also print every miss and false hit per article
    .venv/bin/python benchmarks/eval_enrich.py encode WORKFILE  # turn a labeller's work file into golden entries
"""

from __future__ import annotations

import argparse
import difflib
import hashlib
import json
import re
import sys
import time
from collections import defaultdict
from functools import lru_cache
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from pipeline.config import Settings  # noqa: E402
from pipeline.enrichment.normalise import fold  # noqa: E402
from pipeline.records import Article  # noqa: E402
from pipeline.sources.files import build_article  # noqa: E402

CORPUS = ROOT.parent / "shared" / "corpus" / "articles.jsonl"
GOLDEN = ROOT / "benchmarks" / "golden" / "enrich_golden.json"
OUT = ROOT / "benchmarks" / "results" / "enrich_eval.json"
LISTED_LABELS = frozenset({"PERSON", "ORG", "GPE", "LOC", "FAC"})  # what persons, organizations and places list
KINDS = ("persons", "places", "organizations", "quote_speakers", "figures", "boilerplate", "junk")
ENTITY_FIELDS = {"persons": "persons", "places": "places_names", "organizations": "organizations"}
BATCH = 50
_WORD = re.compile(r"\w+")
_SENTENCE = re.compile(r"(?<=[.!?…”\"])\s+(?=[“\"A-Z0-9(‘'])")


# -- labels --------------------------------------------------------------------------------------------------


def digest(text: str) -> str:
    """A short hash of normalised text: labels point at the corpus without holding its words."""
    return hashlib.sha1(" ".join(text.split()).encode("utf-8")).hexdigest()[:12]


def quote_key(text: str, words: int = 4) -> str:
    """A quote's identity: the hash of its first words, folded (quotation marks and brackets do not count)."""
    return digest(" ".join(_WORD.findall(fold(text))[:words]))


def junk_key(text: str) -> str:
    """The hash of a surface as a lookup key."""
    return digest(fold(text))


def names(entry) -> list[str]:
    """The acceptable spellings of one labelled entity (a name or a list of names)."""
    return [entry] if isinstance(entry, str) else list(entry)


def speakers(entry) -> list[str | None]:
    """The acceptable speakers of one labelled quote (None: unnamed in the text)."""
    return list(entry) if isinstance(entry, list) else [entry]


def line_tokens(text: str) -> list[list[str]]:
    """The tokens of every line of a text (empty lines give empty lists)."""
    return [line.split() for line in text.split("\n")]


def locate(lines: list[list[str]], fragment: str) -> list[tuple[int, int, int]]:
    """(line, first token, end token) of a fragment: every line that is exactly it, else its first occurrence."""
    want = fragment.split()
    whole = [(i, 0, len(toks)) for i, toks in enumerate(lines) if toks == want]
    if whole:
        return whole
    for i, toks in enumerate(lines):
        for j in range(len(toks) - len(want) + 1):
            if toks[j : j + len(want)] == want:
                return [(i, j, j + len(want))]
    return []


def line_of(lines: list[list[str]], fragment: str) -> int | None:
    """The first line whose text holds the fragment (whitespace-normalised), or None."""
    want = " ".join(fragment.split())
    for i, toks in enumerate(lines):
        if want and want in " ".join(toks):
            return i
    return None


def encode(work: dict, corpus: dict[str, dict]) -> list[dict]:
    """Golden entries from a labeller's work file (labels with the words they point at, kept out of the repo)."""
    out = []
    for article_id, lab in work.items():
        text = corpus[article_id]["text"]
        lines = line_tokens(text)
        entry = {"id": article_id, "outlet": lab["outlet"], "split": lab["split"]}
        for kind in ENTITY_FIELDS:
            entry[kind] = [names(e) for e in lab.get(kind, [])]
        optional = lab.get("optional", {})
        entry["optional"] = {k: [names(e) for e in optional.get(k, [])] for k in ENTITY_FIELDS}

        def quotes(items, lines=lines, article_id=article_id):
            rows = []
            for start, who in items:
                line = line_of(lines, start)
                if line is None:
                    raise ValueError(f"{article_id}: quote start {start!r} not in the text")
                rows.append({"line": line, "key": quote_key(start), "speakers": speakers(who)})
            return rows

        def figures(items, lines=lines, article_id=article_id):
            rows = []
            for value, unit, where in items:
                line = line_of(lines, where)
                if line is None:
                    raise ValueError(f"{article_id}: figure {where!r} not in the text")
                rows.append({"value": list(value) if isinstance(value, tuple) else value, "unit": unit, "line": line})
            return rows

        def pieces(items, lines=lines, article_id=article_id):
            rows = []
            for fragment in items:
                found = locate(lines, " ".join(fragment.split()))
                if not found:
                    raise ValueError(f"{article_id}: boilerplate {fragment!r} not in the text")
                rows += [{"line": i, "tokens": [a, b], "sha": digest(fragment)} for i, a, b in found]
            return rows

        entry["quotes"] = quotes(lab.get("quotes", []))
        entry["optional_quotes"] = quotes(optional.get("quotes", []))
        entry["figures"] = figures(lab.get("figures", []))
        entry["optional_figures"] = figures(optional.get("figures", []))
        entry["boilerplate"] = pieces(lab.get("boilerplate", []))
        entry["optional_boilerplate"] = pieces(lab.get("boilerplate_optional", []))
        entry["junk"] = sorted({junk_key(j) for j in lab.get("junk", [])})
        out.append(entry)
    return out


# -- the stream ----------------------------------------------------------------------------------------------


def read_corpus() -> dict[str, dict]:
    """The corpus rows by id."""
    return {row["id"]: row for row in map(json.loads, CORPUS.read_text(encoding="utf-8").splitlines())}


def source_group(row: dict) -> str:
    """The stand-in for a source domain: the outlets the crawl queried, else the dataset."""
    return row["meta"].get("outlets_queried") or row["source_repo"]


def stream(corpus: dict[str, dict]) -> list[tuple[str, Article]]:
    """Every English corpus article as a raw article, oldest first (undated ones first, by id)."""
    rows = sorted(
        (r for r in corpus.values() if r["lang"] == "en" and r["text"].strip()),
        key=lambda r: (r.get("published") or "", r["id"]),
    )
    out = []
    for r in rows:
        article = build_article(
            text=r["text"], title=r.get("title"), url=r.get("url"), published=r.get("published"), domain=source_group(r)
        )
        out.append((r["id"], article))
    return out


def enrich_all(articles: list[tuple[str, Article]]) -> tuple[dict[str, Article], dict]:
    """Every article through one enrich stage in batches, state fed back as the runner does; timings."""
    from pipeline.stages.enrich import build_enrich_stage

    started = time.perf_counter()
    stage = build_enrich_stage(Settings())
    built = time.perf_counter() - started
    out: dict[str, Article] = {}
    t0 = time.perf_counter()
    for i in range(0, len(articles), BATCH):
        chunk = articles[i : i + BATCH]
        results = stage.process([a for _, a in chunk])
        for (cid, _), result in zip(chunk, results, strict=True):
            out[cid] = result.article
        if hasattr(stage, "state_updates"):
            stage.restore(stage.state_updates())
    return out, {
        "stage_build_s": round(built, 2),
        "enrich_s": round(time.perf_counter() - t0, 2),
        "articles": len(articles),
    }


# -- scoring -------------------------------------------------------------------------------------------------


class Tally:
    """True positives, predictions and expectations of one kind."""

    def __init__(self) -> None:
        self.tp_recall = self.expected = self.tp_precision = self.predicted = 0

    def add(self, tp_recall: int, expected: int, tp_precision: int, predicted: int) -> None:
        self.tp_recall += tp_recall
        self.expected += expected
        self.tp_precision += tp_precision
        self.predicted += predicted

    def scores(self) -> dict:
        return {
            "recall": _ratio(self.tp_recall, self.expected),
            "precision": _ratio(self.tp_precision, self.predicted),
            "expected": self.expected,
            "predicted": self.predicted,
            "recalled": self.tp_recall,
            "correct": self.tp_precision,
        }


def _ratio(a: int, b: int) -> float | None:
    return round(a / b, 4) if b else None


def entity_fold(name: str) -> str:
    """A name as compared: folded, a body's country in any of the notations the labels use ("Ministry of
    Infrastructure (Ukraine)" = "Ministry of Infrastructure of Ukraine"; "Russian Armed Forces" = "Armed Forces of
    Russia" = "Armed Forces of the Russian Federation"), an embassy's host likewise ("Embassy of Belarus in Russia" =
    "Embassy of Belarus, Moscow")."""
    countries, cities = _country_words()
    hosted = _HOSTED.match(name)
    if hosted is not None and (city := cities.get(fold(hosted.group(2)))):
        name = f"{hosted.group(1)}, {city}"
    key = fold(_COUNTRY_NOTE.sub(r"\1 of \2", name))
    first, _, rest = key.partition(" ")
    if rest and " " in rest and first in countries:  # "russian armed forces", not "russian army" or "russia"
        key = f"{rest} of {countries[first]}"
    body, of, country = key.rpartition(" of ")
    if of and country.removeprefix("the ") in countries:
        key = f"{body} of {countries[country.removeprefix('the ')]}"
    return key


_COUNTRY_NOTE = re.compile(r"^(.+?)\s+\(([^()]+)\)$")
_HOSTED = re.compile(r"^(Embassy of .+?) in (?:the )?(.+)$")


@lru_cache(maxsize=1)
def _country_words() -> tuple[dict[str, str], dict[str, str]]:
    """From the institutions table: a country's names and adjectives (folded) -> its first name, folded ("russian
    federation" -> "russia"); and its names -> the city its embassies are in."""
    from pipeline.enrichment.institutions import InstitutionTable
    from pipeline.enrichment.tables import DATA_DIR, read_toml

    table = InstitutionTable.from_data(read_toml(DATA_DIR / "enrich_institutions.toml"))
    countries = {fold(w): fold(words[0]) for words in table.countries.values() for w in words}
    cities = {
        fold(w): table.capitals[code]
        for code, words in table.countries.items()
        if code in table.capitals
        for w in words
    }
    return countries, cities


def name_keys(name: str) -> set[str]:
    """The keys a predicted name matches a label by: its own, and without the bracketed country or kind that tells
    namesakes apart ("Democratic Party (United States)" is the "Democratic Party" an American story's label names)."""
    keys = {entity_fold(name)}
    bare = _COUNTRY_NOTE.match(name)
    if bare is not None:
        keys.add(fold(bare.group(1)))
    return keys


def same_entity(keys: set[str], accepted: set[str]) -> bool:
    """A predicted name (its keys) is a labelled entity (the folded spellings its label accepts): one of them; or
    the acronym of one ("IAEA" for "International Atomic Energy Agency"); or, for a name of two words or more
    and no small word ("of", "the"), the same words but for transliteration ("Zelenskyy" = "Zelensky",
    "Soloviev" = "Solovyov"; each word with its first letter and its consonants, vowels and doubled letters aside)."""
    if keys & accepted:
        return True
    for key in keys:
        if key.isalpha() and 2 <= len(key) <= 8 and " " not in key:
            if any(" " in a and _acronym(a) == key for a in accepted):
                return True
        words = key.split()
        if len(words) >= 2 and not _SMALL & set(words) and any(_transliterated(words, a.split()) for a in accepted):
            return True
    return False


_SMALL = frozenset({"of", "the", "and", "for", "on", "in"})


def _acronym(name: str) -> str:
    return "".join(w[0] for w in re.split(r"[\s-]+", name) if w and w not in _SMALL)


def _transliterated(a: list[str], b: list[str]) -> bool:
    return len(a) == len(b) and all(
        x == y or (x[0] == y[0] and min(len(x), len(y)) >= 4 and _consonants(x) == _consonants(y))
        for x, y in zip(a, b, strict=True)
    )


def _consonants(word: str) -> str:
    """A word's consonants, doubled ones once, with the letters transliterations swap folded ("ff" = "v")."""
    for old, new in (("ff", "v"), ("ph", "f"), ("kh", "h"), ("ck", "k"), ("w", "v"), ("x", "ks")):
        word = word.replace(old, new)
    return re.sub(r"(.)\1+", r"\1", re.sub(r"[aeiouy]", "", word))


def score_entities(
    predicted: list[str], expected: list[list[str]], optional: list[list[str]]
) -> tuple[tuple, list, list]:
    """Counts for one kind of one article, the misses and the false hits (one predicted name per expected entity)."""
    keys = [{entity_fold(n) for n in e} for e in expected]
    optional_keys = {entity_fold(n) for e in optional for n in e}
    taken: set[int] = set()
    correct = 0
    wrong = []
    for name in dict.fromkeys(predicted):
        key = name_keys(name)
        hit = next((i for i, k in enumerate(keys) if key & k and i not in taken), None)
        if hit is None:
            hit = next((i for i, k in enumerate(keys) if i not in taken and same_entity(key, k)), None)
        if hit is not None:
            taken.add(hit)
            correct += 1
        elif same_entity(key, optional_keys):
            correct += 1
        else:
            wrong.append(name)
    counted = len(dict.fromkeys(predicted))
    misses = [expected[i][0] for i in range(len(expected)) if i not in taken]
    return (len(taken), len(expected), correct, counted), misses, wrong


def score_quotes(article: Article, entry: dict) -> tuple[tuple, list, list]:
    """Speakers: recall over labelled quotes with a named speaker, precision over the stage's named speakers."""
    found = {}
    for q in article.quotes or []:
        found.setdefault(quote_key(q.text), q.speaker)  # its first words, over a short first sentence ("We will.")
        # a quotation running over paragraphs is one quote of the stage (its text one line); a label may give each
        # paragraph its own: a labelled quote starting at a sentence of the stage's quote is in it
        for part in _SENTENCE.split(q.text):
            if part.strip():
                found.setdefault(quote_key(part), q.speaker)
    # a speaker label names an entity: any spelling the labels accept for that entity is the speaker too
    spellings = {}
    for kind in ("persons", "organizations"):
        for group in entry[kind] + entry["optional"][kind]:
            folded = {entity_fold(n) for n in group}
            for name in folded:
                spellings.setdefault(name, set()).update(folded)

    def accepted(names: list) -> set[str]:
        return {f for n in names if n for f in spellings.get(entity_fold(n), {entity_fold(n)})}

    required = [q for q in entry["quotes"] if None not in q["speakers"]]
    misses = []
    recalled = 0
    for q in required:
        said = found.get(q["key"], "<quote not found>")
        if said is not None and said != "<quote not found>" and same_entity(name_keys(said), accepted(q["speakers"])):
            recalled += 1
        else:
            misses.append(f"line {q['line']}: {said!r}, want {q['speakers'][0]!r}")
    labelled = {q["key"]: q for q in entry["quotes"] + entry["optional_quotes"]}
    correct = predicted = 0
    wrong = []
    for q in article.quotes or []:
        if q.speaker is None:
            continue
        predicted += 1
        label = labelled.get(quote_key(q.text))
        if label is not None and same_entity(name_keys(q.speaker), accepted(label["speakers"])):
            correct += 1
        else:
            wrong.append(
                f"{q.speaker!r} for a {'labelled' if label else 'unlabelled'} quote "
                f"({'line ' + str(label['line']) if label else 'not a labelled quote'})"
            )
    return (recalled, len(required), correct, predicted), misses, wrong


def score_figures(article: Article, entry: dict, lines: list[list[str]]) -> tuple[tuple, list, list]:
    """Figures by value (and line when the stage's text is found in the article)."""

    def matches(label: dict, value: float, line: int | None) -> bool:
        want = label["value"]
        values = want if isinstance(want, list) else [want]
        return any(abs(value - v) <= 1e-6 * max(1.0, abs(v)) for v in values) and (
            line is None or line == label["line"]
        )

    # every figure the stage lists is a claim of its own: one labelled claim each (a poll's "5%" of three groups in
    # one paragraph are three); the same figure text listed twice in a line is one
    predicted = {}
    for f in article.figures or []:
        line = line_of(lines, f.text)
        predicted.setdefault((f.value, line, f.text, len(predicted)), f)
    taken: set[int] = set()
    correct = 0
    wrong = []
    for (value, line, _text, _n), f in predicted.items():
        hit = next((i for i, lab in enumerate(entry["figures"]) if i not in taken and matches(lab, value, line)), None)
        if hit is None:  # the same claim taken from another of its mentions ("$2 billion" ... "two billion dollars")
            hit = next(
                (
                    i
                    for i, lab in enumerate(entry["figures"])
                    if i not in taken and lab["unit"] == f.unit and matches(lab, value, None)
                ),
                None,
            )
        if hit is not None:
            taken.add(hit)
            correct += 1
        elif any(matches(lab, value, line) for lab in entry["optional_figures"]):
            correct += 1
        else:
            wrong.append(f"{f.value:g} {f.unit} (line {line})")
    misses = [
        f"{lab['value']} {lab['unit']} (line {lab['line']})" for i, lab in enumerate(entry["figures"]) if i not in taken
    ]
    return (len(taken), len(entry["figures"]), correct, len(predicted)), misses, wrong


def removed_tokens(text: str, clean: str) -> list[list[bool]]:
    """For every token of every line of `text`: is it missing from `clean` (token alignment, difflib)? Tokens are
    compared by their letters and digits: a word whose punctuation changed where a glued credit was cut ("die”,"
    -> "die”.") is still there."""
    lines = line_tokens(text)
    flat = [(i, j) for i, toks in enumerate(lines) for j in range(len(toks))]
    raw = [lines[i][j] for i, j in flat]
    kept = clean.split()
    gone = [[False] * len(toks) for toks in lines]

    def mark(a0: int, a1: int) -> None:
        for k in range(a0, a1):
            i, j = flat[k]
            gone[i][j] = True

    # tokens as written first, so that a removed caption's "The" is not taken for the next paragraph's "“The";
    # then, inside what differs, by letters and digits
    for tag, a0, a1, b0, b1 in difflib.SequenceMatcher(None, raw, kept, autojunk=False).get_opcodes():
        if tag == "delete":
            mark(a0, a1)
        elif tag == "replace":
            inner = difflib.SequenceMatcher(
                None, [_core(t) for t in raw[a0:a1]], [_core(t) for t in kept[b0:b1]], autojunk=False
            )
            for sub, c0, c1, _, _ in inner.get_opcodes():
                if sub in ("delete", "replace"):
                    mark(a0 + c0, a0 + c1)
    return gone


def _core(token: str) -> str:
    """A token's letters and digits (the token itself when it has none: a dash, a bullet)."""
    core = "".join(c for c in token if c.isalnum())
    return core or token


def score_boilerplate(article: Article, entry: dict, text: str) -> tuple[tuple, list, list]:
    """Labelled pieces removed (recall); story sentences lost count against precision."""
    lines = line_tokens(text)
    gone = removed_tokens(text, article.text_clean or "")
    for piece in entry["boilerplate"] + entry["optional_boilerplate"]:
        got = digest(" ".join(lines[piece["line"]][piece["tokens"][0] : piece["tokens"][1]]))
        if got != piece["sha"]:
            raise ValueError(f"{entry['id']}: the corpus text changed under a boilerplate label (line {piece['line']})")
    removed = [
        p
        for p in entry["boilerplate"]
        if all(gone[p["line"]][p["tokens"][0] : p["tokens"][1]]) or _caption_without_credit(p, lines, gone)
    ]
    misses = [f"line {p['line']} kept" for p in entry["boilerplate"] if p not in removed]
    furniture = defaultdict(set)
    for p in entry["boilerplate"] + entry["optional_boilerplate"]:
        furniture[p["line"]].update(range(*p["tokens"]))
    lost = []
    for i, toks in enumerate(lines):
        # story sentences: the line's tokens outside labelled furniture, split at sentence ends
        for sentence in _sentences(toks, furniture[i]):
            if any(gone[i][k] for k in sentence):
                lost.append(
                    f"line {i}: {sum(gone[i][k] for k in sentence)}/{len(sentence)} words of a story sentence removed"
                )
    removed_count = len(removed)
    return (removed_count, len(entry["boilerplate"]), removed_count, removed_count + len(lost)), misses, lost


# a photo credit closing a caption: "(Clodagh Kilcoyne/PA)", "(… via AP)", "(Getty Images)", "…regionCredit: AFP"
_CREDIT = re.compile(
    r"^\([^()]*(?:/|\bvia\b|\bphoto\b|\bimages?\b|\bpool\b)[^()]*\)$|(?:^|\W)(?:photo\s+|image\s+)?credits?\s*:",
    re.IGNORECASE,
)


def _caption_without_credit(piece: dict, lines: list[list[str]], gone: list[list[bool]]) -> bool:
    """A photo caption labelled whole that the stage kept without its credit: the project's policy (the seeds' spec,
    tests/fixtures/enrich/003.json) keeps a caption's words, which name people and places, and removes its credit.
    Scored as removed when the stage took off the line's closing credit and nothing else."""
    toks, (first, end) = lines[piece["line"]], piece["tokens"]
    if first != 0 or end != len(toks):
        return False
    flags = gone[piece["line"]]
    cut = next((k for k in range(len(toks)) if flags[k]), None)
    if cut is None or cut == 0 or not all(flags[cut:]):
        return False
    return _CREDIT.search(" ".join(toks[cut:])) is not None


def _sentences(tokens: list[str], skip: set[int]) -> list[list[int]]:
    """Token indexes of the line's sentences, furniture tokens left out."""
    out: list[list[int]] = []
    current: list[int] = []
    for k, tok in enumerate(tokens):
        if k in skip:
            continue
        current.append(k)
        if tok[-1:] in ".!?" or tok.endswith(("”", '."', '?"', '!"')):
            out.append(current)
            current = []
    if current:
        out.append(current)
    return out


def score_junk(article: Article, entry: dict) -> tuple[tuple, list, list]:
    """Labelled junk surfaces not listed as a person, place or organisation."""
    listed = {junk_key(n): n for field in ENTITY_FIELDS.values() for n in getattr(article, field) or []}
    for entity in article.entities or []:
        if entity.label not in LISTED_LABELS:
            continue  # an event or an award ("Oscar" as Academy Awards) is not listed as a person, place or organisation
        for m in entity.mentions:
            listed.setdefault(junk_key(m), entity.name)
    hits = [listed[k] for k in entry["junk"] if k in listed]
    kept_out = len(entry["junk"]) - len(hits)
    return (kept_out, len(entry["junk"]), kept_out, len(entry["junk"])), [], hits


def score(enriched: dict[str, Article], golden: list[dict], corpus: dict[str, dict], explain: bool) -> dict:
    """Per split and kind: recall and precision; per article: what was missed and what was wrong."""
    tallies: dict[str, dict[str, Tally]] = defaultdict(lambda: {k: Tally() for k in KINDS})
    details = {}
    for entry in golden:
        article = enriched[entry["id"]]
        text = corpus[entry["id"]]["text"]
        lines = line_tokens(text)
        per = {}
        for kind, field in ENTITY_FIELDS.items():
            per[kind] = score_entities(getattr(article, field) or [], entry[kind], entry["optional"].get(kind, []))
        per["quote_speakers"] = score_quotes(article, entry)
        per["figures"] = score_figures(article, entry, lines)
        per["boilerplate"] = score_boilerplate(article, entry, text)
        per["junk"] = score_junk(article, entry)
        for kind, (counts, _, _) in per.items():
            for split in (entry["split"], "all"):
                tallies[split][kind].add(*counts)
        details[entry["id"]] = {
            "outlet": entry["outlet"],
            "split": entry["split"],
            **{k: {"missed": m, "wrong": w} for k, (_, m, w) in per.items() if m or w},
        }
        if explain:
            print(f"\n== {entry['id']} ({entry['outlet']}, {entry['split']})")
            for kind, (_, missed, wrong) in per.items():
                if missed or wrong:
                    print(f"  {kind}: missed {missed}; wrong {wrong}")
    return {"splits": {s: {k: t.scores() for k, t in ks.items()} for s, ks in tallies.items()}, "articles": details}


def table(result: dict) -> str:
    """The per-kind table of every split."""
    out = []
    for split, kinds in result["splits"].items():
        out.append(f"\n{split}: {'kind':<16}{'recall':>8}{'precision':>11}{'expected':>10}{'predicted':>11}")
        for kind, s in kinds.items():
            r = "-" if s["recall"] is None else f"{s['recall']:.2f}"
            p = "-" if s["precision"] is None else f"{s['precision']:.2f}"
            out.append(f"{'':<{len(split) + 2}}{kind:<16}{r:>8}{p:>11}{s['expected']:>10}{s['predicted']:>11}")
    return "\n".join(out)


def main() -> None:
    """Score (default) or encode a work file."""
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("command", nargs="?", default="score", choices=["score", "encode"])
    parser.add_argument("workfile", nargs="?", help="encode: a labeller's work file (JSON, kept out of the repository)")
    parser.add_argument("--explain", action="store_true", help="print every miss and false hit")
    parser.add_argument("--out", type=Path, default=OUT)
    args = parser.parse_args()
    if not CORPUS.exists():
        print(f"corpus absent ({CORPUS} not found): the golden set points into it, nothing to score")
        return
    corpus = read_corpus()
    if args.command == "encode":
        work = json.loads(Path(args.workfile).read_text(encoding="utf-8"))
        encoded = encode(work, corpus)
        # the work file's articles replace their own entries; every other labelled article stays
        kept = json.loads(GOLDEN.read_text(encoding="utf-8")) if GOLDEN.exists() else []
        new_ids = {e["id"] for e in encoded}
        merged = [e for e in kept if e["id"] not in new_ids] + encoded
        GOLDEN.parent.mkdir(parents=True, exist_ok=True)
        GOLDEN.write_text(json.dumps(merged, indent=1, ensure_ascii=False) + "\n", encoding="utf-8")
        print(f"{len(encoded)} articles written to {GOLDEN.relative_to(ROOT)} ({len(merged)} in all)")
        return
    golden = json.loads(GOLDEN.read_text(encoding="utf-8"))
    enriched, timing = enrich_all(stream(corpus))
    result = score(enriched, golden, corpus, args.explain)
    result["stream"] = {**timing, "source_domains": "corpus outlet groups (the corpus has no URLs)"}
    result["golden"] = {
        "articles": len(golden),
        "outlets": sorted({g["outlet"] for g in golden}),
        "splits": {
            split: sum(g["split"] == split for g in golden) for split in dict.fromkeys(g["split"] for g in golden)
        },
    }
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(json.dumps(result, indent=1, ensure_ascii=False) + "\n", encoding="utf-8")
    print(table(result))
    print(f"\nwritten to {args.out.relative_to(ROOT) if args.out.is_relative_to(ROOT) else args.out}")


if __name__ == "__main__":
    main()
