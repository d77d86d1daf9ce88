"""The Kibana saved objects use only fields the real index mapping has, aggregatable where they aggregate."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from kibana.fields import field_references, referenced_fields
from pipeline.config import Settings
from pipeline.operations.kibana import read_saved_objects
from pipeline.sinks.elasticsearch import client

pytestmark = pytest.mark.integration

NDJSON = Path(__file__).resolve().parents[2] / "kibana" / "saved_objects.ndjson"


def field_caps(settings: Settings) -> dict[str, dict]:
    """`_field_caps` of every field behind the test's alias: {field: {type: caps}}."""
    return client(settings).field_caps(index=settings.index_alias, fields="*")["fields"]


def problems(fields: dict[str, dict[str, bool]], caps: dict[str, dict]) -> list[str]:
    """What Kibana would break on: fields the mapping lacks, aggregations on fields without doc values."""
    found = []
    for field, use in fields.items():
        types = caps.get(field)
        if not types:
            found.append(f"{field}: not in the index mapping")
        elif use["aggregated"] and not all(t["aggregatable"] for t in types.values()):
            found.append(f"{field}: aggregated, but {'/'.join(types)} is not aggregatable")
        elif not all(t["searchable"] for t in types.values()):
            found.append(f"{field}: not searchable")
    return found


def test_every_referenced_field_exists_and_aggregates_where_aggregated(settings: Settings) -> None:
    caps = field_caps(settings)
    fields = referenced_fields(NDJSON)
    assert len(fields) >= 15, fields  # the walker found the objects' fields (guards against a vacuous pass)
    found = problems(fields, caps)
    if found:
        uses = {(r.field, r.object_id, r.where) for r in field_references(read_saved_objects(NDJSON))}
        detail = "\n".join(
            f"  {f} <- {o} ({w})" for f, o, w in sorted(uses) if any(p.startswith(f + ":") for p in found)
        )
        pytest.fail("saved objects reference fields the mapping cannot serve:\n" + "\n".join(found) + "\n" + detail)


def test_time_field_is_a_date_and_the_map_field_a_geo_point(settings: Settings) -> None:
    caps = field_caps(settings)
    assert set(caps["published_at"]) == {"date"}
    assert set(caps["places.location"]) == {"geo_point"}
    (data_view,) = [o for o in read_saved_objects(NDJSON) if o["type"] == "index-pattern"]
    assert data_view["attributes"]["timeFieldName"] == "published_at"


def test_the_check_catches_a_missing_field_and_a_text_aggregation(settings: Settings, tmp_path: Path) -> None:
    objects = read_saved_objects(NDJSON)
    lens = next(o for o in objects if o["id"] == "newsflow-lens-top-people")
    columns = next(iter(lens["attributes"]["state"]["datasourceStates"]["formBased"]["layers"].values()))["columns"]
    terms = next(c for c in columns.values() if c["operationType"] == "terms")
    terms["sourceField"] = "title_en"  # analysed text: no doc values
    search = next(o for o in objects if o["id"] == "newsflow-search-latest-quotes")
    search["attributes"]["columns"].append("quotes.context")  # not in the mapping
    broken = tmp_path / "broken.ndjson"
    broken.write_text("".join(json.dumps(o) + "\n" for o in objects))

    found = problems(referenced_fields(broken), field_caps(settings))
    assert "title_en: aggregated, but text is not aggregatable" in found
    assert "quotes.context: not in the index mapping" in found
