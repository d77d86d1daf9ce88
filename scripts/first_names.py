"""Writes pipeline/data/first_names.tsv: given names that nearly always belong to women or nearly always to men.

The quote attribution reads "she said" as nobody the text's names make a man (and "he" the other way round) when the
text itself does not say which a person is. The names come from nomquamgender (MIT licence, Ian Van Buskirk et al.,
https://github.com/ianvanbuskirk/nomquamgender), whose table gives, for 720,000 names, how many sources list a name,
how many people bear it and the share of them that are women. Its table is 22 MB and takes seconds to load, so the
worker reads this extract instead: names listed by at least MIN_SOURCES sources, borne by at least MIN_PEOPLE people,
and at least 1 - MAX_MIXED of them one gender.

    pip install nomquamgender==0.1.4 && python scripts/first_names.py
"""

from __future__ import annotations

import importlib.metadata
import importlib.resources
import json
import re
from pathlib import Path

OUT = Path(__file__).resolve().parent.parent / "pipeline" / "data" / "first_names.tsv"
MIN_SOURCES = 5
MIN_PEOPLE = 100
MAX_MIXED = 0.05
_NAME = re.compile(r"[a-z][a-z'-]+")


def main() -> None:
    table = json.loads(importlib.resources.files("nomquamgender").joinpath("name_data.json").read_text("utf-8"))
    rows = []
    for name, (sources, people, share_women, *_) in sorted(table.items()):
        if not _NAME.fullmatch(name) or sources < MIN_SOURCES or people < MIN_PEOPLE:
            continue
        if share_women >= 1 - MAX_MIXED:
            rows.append(f"{name}\tf")
        elif share_women <= MAX_MIXED:
            rows.append(f"{name}\tm")
    header = (
        "# Given names borne almost only by women (f) or by men (m): an extract of nomquamgender 0.1.4's table\n"
        "# (MIT licence, Copyright (c) 2022 Ian Van Buskirk), written by scripts/first_names.py: names listed by\n"
        f"# at least {MIN_SOURCES} sources and borne by at least {MIN_PEOPLE} people, at least "
        f"{1 - MAX_MIXED:.0%} of them one gender. nomquamgender's licence:\n#\n"
    )
    licence = importlib.metadata.distribution("nomquamgender").read_text("LICENSE") or ""
    header += "".join(f"# {line}".rstrip() + "\n" for line in licence.strip().splitlines()) + "#\n"
    OUT.write_text(header + "\n".join(rows) + "\n", encoding="utf-8")
    print(f"{len(rows)} names written to {OUT}")


if __name__ == "__main__":
    main()
