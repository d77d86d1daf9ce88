"""Writes docs/configuration.md from the settings class: every NEWSFLOW_* variable, its default and meaning.

python scripts/configuration_doc.py          # rewrite the file
python scripts/configuration_doc.py --check  # exit 1 when it is stale (a unit test runs this)
"""

from __future__ import annotations

import re
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from pipeline.config import Settings  # noqa: E402

OUT = ROOT / "docs" / "configuration.md"
SOURCE = ROOT / "pipeline" / "config.py"
HEADER = """# Configuration

Every setting is an environment variable `NEWSFLOW_<NAME>`, read once into one `Settings` object
(`pipeline/config.py`) at the edge: the CLI and each Airflow task. An empty variable counts as unset.
Settings with a closed set of values are checked at start: a wrong one stops `newsflow` with exit 2
and names the variable. Secrets (`*_PASSWORD`, `*_API_KEY`) come only from the environment.

This page is generated from the settings class by `python scripts/configuration_doc.py`; a test fails
when it is stale.
"""


def sections() -> dict[str, str]:
    """Each field's section: the first line of the comment block above it in the settings class."""
    found, current, previous = {}, "General", ""
    for line in SOURCE.read_text().splitlines():
        comment = re.match(r"^    # (.+)$", line)
        if comment and not previous.startswith("    #") and not comment.group(1).startswith("An empty"):
            current = comment.group(1).split(":")[0].split(" (")[0].rstrip(".")
        field = re.match(r"^    ([a-z_0-9]+): ", line)
        if field:
            found[field.group(1)] = current
        previous = line
    return found


def _default(name: str, value: object) -> str:
    """A default as the page shows it: paths relative to the checkout or home, secrets hidden."""
    if value is None:
        return "–"
    if "password" in name or "api_key" in name:
        return "(secret)"
    if isinstance(value, Path):
        for base, shown in ((ROOT, "<checkout>"), (Path.home(), "~")):
            if value.is_relative_to(base):
                return f"`{shown}/{value.relative_to(base)}`"
    return "(empty)" if value == "" else f"`{value}`"


def render() -> str:
    """The whole page."""
    where = sections()
    out, last = [HEADER], None
    for name, info in Settings.model_fields.items():
        section = where.get(name, "General")
        if section != last:
            out.append(f"\n## {section}\n\n| variable | default | meaning |\n|---|---|---|")
            last = section
        out.append(f"| `NEWSFLOW_{name.upper()}` | {_default(name, info.default)} | {info.description or ''} |")
    return "\n".join(out) + "\n"


def main(argv: list[str]) -> int:
    text = render()
    if "--check" in argv:
        if not OUT.exists() or OUT.read_text() != text:
            print(f"{OUT} is stale: run python scripts/configuration_doc.py", file=sys.stderr)
            return 1
        return 0
    OUT.write_text(text)
    print(f"wrote {OUT}")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
