"""Which index fields the Kibana saved objects use, and how (aggregated or only read): checked against the
real mapping by the tests, so a renamed field breaks a test, not an analyst's dashboard."""

from __future__ import annotations

import json
import re
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from pathlib import Path

from pipeline.operations.kibana import read_saved_objects

RECORDS = "___records___"  # Lens's pseudo-field for "count of documents"
_KQL_STRING = re.compile(r'"(?:[^"\\]|\\.)*"')
_KQL_FIELD = re.compile(r"(?<![\w.*@-])([A-Za-z_@][\w.@-]*)\s*(?::|<=|>=|<|>)")


@dataclass(frozen=True)
class FieldReference:
    """One use of an index field by a saved object."""

    field: str
    aggregated: bool  # needs doc values: aggregations, sorting, Discover's histogram
    object_type: str
    object_id: str
    where: str


# -- fields the objects reference ---------------------------------------------------------------


def referenced_fields(ndjson_path: str | Path) -> dict[str, dict[str, bool]]:
    """Every index field the saved objects use, and whether any use aggregates on it (or sorts by it)."""
    fields: dict[str, dict[str, bool]] = {}
    for ref in field_references(read_saved_objects(ndjson_path)):
        entry = fields.setdefault(ref.field, {"aggregated": False})
        entry["aggregated"] = entry["aggregated"] or ref.aggregated
    return dict(sorted(fields.items()))


def field_references(objects: Iterable[dict]) -> list[FieldReference]:
    """Each use of a field by each object, with where in the object it is."""
    found: list[FieldReference] = []
    for obj in objects:
        walk = _WALKERS.get(obj["type"])
        if walk is None:
            continue
        for field, aggregated, where in walk(obj.get("attributes") or {}):
            found.append(FieldReference(field, aggregated, obj["type"], obj["id"], where))
    return found


def query_fields(query: dict | str | None) -> list[str]:
    """Field names a KQL or Lucene query string names (`field: value`, `field >= value`)."""
    text = query.get("query") if isinstance(query, dict) else query
    if not isinstance(text, str):
        return []
    return _KQL_FIELD.findall(_KQL_STRING.sub('""', text))


def _loads(value, default):
    if isinstance(value, str):
        return json.loads(value) if value.strip() else default
    return value if value is not None else default


def _search_source(attributes: dict) -> Iterator[tuple[str, bool, str]]:
    source = _loads((attributes.get("kibanaSavedObjectMeta") or {}).get("searchSourceJSON"), {})
    for field in query_fields(source.get("query")):
        yield field, False, "query"
    yield from _filters(source.get("filter"))


def _filters(filters) -> Iterator[tuple[str, bool, str]]:
    for f in filters or ():
        key = (f.get("meta") or {}).get("key")
        if key:
            yield key, False, "filter"


def _walk_index_pattern(attributes: dict) -> Iterator[tuple[str, bool, str]]:
    if attributes.get("timeFieldName"):
        yield attributes["timeFieldName"], True, "time field (Discover's histogram, time sort)"
    for key in ("fieldAttrs", "fieldFormatMap"):
        for field in _loads(attributes.get(key), {}):
            yield field, False, key


def _walk_search(attributes: dict) -> Iterator[tuple[str, bool, str]]:
    for column in attributes.get("columns") or ():
        if column != "_source":
            yield column, False, "column"
    for sort in attributes.get("sort") or ():
        if sort and sort[0] != "_score":
            yield sort[0], True, "sort"
    yield from _search_source(attributes)


def _walk_lens(attributes: dict) -> Iterator[tuple[str, bool, str]]:
    state = attributes.get("state") or {}
    for datasource in (state.get("datasourceStates") or {}).values():
        for layer in (datasource.get("layers") or {}).values():
            for column in (layer.get("columns") or {}).values():
                label = column.get("label", "")
                source = column.get("sourceField")
                if source and source != RECORDS:
                    yield source, True, f"{column.get('operationType')} column {label!r}"
                sort_field = (column.get("params") or {}).get("sortField")
                if sort_field:
                    yield sort_field, True, f"sort of column {label!r}"
                for field in query_fields(column.get("filter")):
                    yield field, False, f"filter of column {label!r}"
    for field in query_fields(state.get("query")):
        yield field, False, "query"
    yield from _filters(state.get("filters"))


_AGGREGATING_SOURCES = {"ES_GEO_GRID", "ES_GEO_LINE", "ES_PEW_PEW", "ES_TERM_SOURCE", "ES_DISTANCE_SOURCE"}


def _walk_map(attributes: dict) -> Iterator[tuple[str, bool, str]]:
    for layer in _loads(attributes.get("layerListJSON"), []):
        source = layer.get("sourceDescriptor") or {}
        kind = source.get("type", "")
        label = layer.get("label") or layer.get("id")
        if not kind.startswith("ES_"):
            continue
        aggregating = kind in _AGGREGATING_SOURCES or source.get("scalingType") in ("CLUSTERS", "MVT")
        for key in ("geoField", "sourceGeoField", "destGeoField"):
            if source.get(key):
                yield source[key], aggregating, f"layer {label!r} {key}"
        for field in source.get("tooltipProperties") or ():
            yield field, False, f"layer {label!r} tooltip"
        for key in ("sortField", "splitField", "topHitsSplitField", "term"):
            if source.get(key):
                yield source[key], True, f"layer {label!r} {key}"
        for metric in source.get("metrics") or ():
            if metric.get("field"):
                yield metric["field"], True, f"layer {label!r} metric"
        if kind == "ES_SEARCH":  # dynamic styles on documents name real fields; field meta aggregates
            for prop in ((layer.get("style") or {}).get("properties") or {}).values():
                options = (prop or {}).get("options") or {}
                field = options.get("field") or {}
                if prop.get("type") == "DYNAMIC" and field.get("origin") == "source" and field.get("name"):
                    yield (
                        field["name"],
                        bool((options.get("fieldMetaOptions") or {}).get("isEnabled")),
                        f"layer {label!r} style",
                    )
    state = _loads(attributes.get("mapStateJSON"), {})
    for field in query_fields(state.get("query")):
        yield field, False, "query"
    yield from _filters(state.get("filters"))


def _walk_dashboard(attributes: dict) -> Iterator[tuple[str, bool, str]]:
    yield from _search_source(attributes)
    controls = _loads((attributes.get("controlGroupInput") or {}).get("panelsJSON"), {})
    for control in controls.values():
        field = (control.get("explicitInput") or {}).get("fieldName")
        if field:
            yield field, True, f"control {control.get('explicitInput', {}).get('title', field)!r}"


def _walk_visualization(attributes: dict) -> Iterator[tuple[str, bool, str]]:
    vis = _loads(attributes.get("visState"), {})
    for agg in vis.get("aggs") or ():
        field = (agg.get("params") or {}).get("field")
        if field:
            yield field, True, f"{agg.get('type')} aggregation"
    yield from _search_source(attributes)


_WALKERS = {
    "index-pattern": _walk_index_pattern,
    "search": _walk_search,
    "lens": _walk_lens,
    "map": _walk_map,
    "dashboard": _walk_dashboard,
    "visualization": _walk_visualization,
}
