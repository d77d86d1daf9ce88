"""Builds kibana/saved_objects.ndjson: the analysts' data view, saved searches, visualisations and dashboard.

Run `python kibana/build_saved_objects.py` after editing this file; `--check` exits 1 when the
committed NDJSON is out of date (a unit test runs it). The shapes are Kibana 8.x saved objects as
`POST /api/saved_objects/_export` writes them: each object states the migration version its shape
belongs to, and Kibana migrates it forward on import (Lens 8.9.0 = `formBased` datasource; map 8.1.0
= renamed layer types; dashboard 8.7.0 = by-reference panels and a control group).
"""

from __future__ import annotations

import json
import sys
import uuid
from pathlib import Path

OUT = Path(__file__).resolve().parent / "saved_objects.ndjson"
ALIAS = "news-articles"  # every reader uses the alias, never a concrete index
DATA_VIEW_ID = "newsflow-news-articles"
CORE_MIGRATION_VERSION = "8.8.0"
TYPE_MIGRATION_VERSION = {
    "index-pattern": "8.0.0",
    "search": "8.0.0",
    "lens": "8.9.0",
    "map": "8.1.0",
    "dashboard": "8.7.0",
}
RECORDS = "___records___"  # Lens's name for "count of documents"
_NS = uuid.UUID("5d0c1e8e-6f0b-4c59-9a53-6e6577736677")


def stable_id(*parts: str) -> str:
    """A UUID derived from names, so regenerating the file changes nothing that did not change."""
    return str(uuid.uuid5(_NS, "/".join(parts)))


def saved_object(type_: str, id_: str, attributes: dict, references: list[dict] | None = None) -> dict:
    """One saved object in Kibana's export shape."""
    return {
        "attributes": attributes,
        "coreMigrationVersion": CORE_MIGRATION_VERSION,
        "id": id_,
        "managed": False,
        "references": references or [],
        "type": type_,
        "typeMigrationVersion": TYPE_MIGRATION_VERSION[type_],
    }


def kql(query: str = "") -> dict:
    return {"query": query, "language": "kuery"}


# -- data view ---------------------------------------------------------------------------------

FIELD_LABELS = {
    "source.name": "Outlet",
    "language.code": "Language",
    "translation.status": "Translation",
    "translation.source_language": "Translated from",
    "dedup.cluster_id": "Story",
    "dedup.is_duplicate": "Duplicate",
    "title_en": "Title (English)",
    "quotes.speaker": "Speaker",
    "quotes.text": "Quote",
    "places_names": "Places",
    "persons": "People",
    "organizations": "Organisations",
    "topics.name": "Topic",
}


def data_view() -> dict:
    """The data view on the alias, time field `published_at`."""
    return saved_object(
        "index-pattern",
        DATA_VIEW_ID,
        {
            "title": ALIAS,
            "name": "News articles",
            "timeFieldName": "published_at",
            "fields": "[]",  # Kibana reads the fields from the mapping; nothing to cache here
            "fieldAttrs": json.dumps({f: {"customLabel": label} for f, label in FIELD_LABELS.items()}, sort_keys=True),
            "fieldFormatMap": json.dumps({"url": {"id": "url", "params": {"type": "a", "labelTemplate": "{{value}}"}}}),
            "runtimeFieldMap": "{}",
            "sourceFilters": "[]",
            "typeMeta": "{}",
            "allowNoIndex": True,  # the dashboard can be imported before the first article is indexed
        },
    )


# -- saved searches ----------------------------------------------------------------------------


def saved_search(
    slug: str, title: str, description: str, query: str, columns: list[str], sort: list[list[str]] | None = None
) -> dict:
    """A Discover session on the data view: a query, columns and a sort."""
    search_source = {
        "query": kql(query),
        "filter": [],
        "highlightAll": True,
        "version": True,
        "indexRefName": "kibanaSavedObjectMeta.searchSourceJSON.index",
    }
    return saved_object(
        "search",
        f"newsflow-search-{slug}",
        {
            "title": title,
            "description": description,
            "columns": columns,
            "sort": sort or [["published_at", "desc"]],
            "hits": 0,
            "version": 1,
            "kibanaSavedObjectMeta": {"searchSourceJSON": json.dumps(search_source)},
        },
        [{"id": DATA_VIEW_ID, "name": "kibanaSavedObjectMeta.searchSourceJSON.index", "type": "index-pattern"}],
    )


def saved_searches() -> list[dict]:
    return [
        saved_search(
            "one-per-story",
            "News: one hit per story",
            "Unique articles only: every story cluster shows once, through its first article (dedup.is_duplicate: false).",
            "dedup.is_duplicate: false",
            ["title_en", "source.name", "language.code", "dedup.cluster_id"],
        ),
        saved_search(
            "italian-origin",
            "News: Italian-origin articles",
            "Written in Italian, or translated from Italian (machine translations keep Italian fragments).",
            "language.code: it or translation.source_language: it",
            ["title", "title_en", "source.name", "language.code", "translation.status"],
        ),
        saved_search(
            "pending-translations",
            "News: pending translations",
            "Indexed untranslated after the provider kept failing; the re-translation DAG retries them.",
            "translation.status: pending",
            ["title", "source.name", "language.code", "translation.error", "ingested_at"],
            sort=[["ingested_at", "desc"]],
        ),
        saved_search(
            "latest-quotes",
            "News: latest quotes",
            "Articles with quotes, newest first: who said what, and where it was published.",
            "quotes.text: *",
            ["quotes.speaker", "quotes.text", "source.name", "title_en"],
        ),
    ]


# -- Lens --------------------------------------------------------------------------------------


def count_column(label: str = "Articles") -> dict:
    return {
        "label": label,
        "customLabel": True,
        "dataType": "number",
        "operationType": "count",
        "isBucketed": False,
        "scale": "ratio",
        "sourceField": RECORDS,
        "params": {"emptyAsNull": True},
    }


def terms_column(field: str, label: str, order_by: str, size: int = 10, other: bool = True) -> dict:
    return {
        "label": label,
        "customLabel": True,
        "dataType": "string",
        "operationType": "terms",
        "isBucketed": True,
        "scale": "ordinal",
        "sourceField": field,
        "params": {
            "size": size,
            "orderBy": {"type": "column", "columnId": order_by},
            "orderDirection": "desc",
            "otherBucket": other,
            "missingBucket": False,
            "parentFormat": {"id": "terms"},
            "include": [],
            "exclude": [],
            "includeIsRegex": False,
            "excludeIsRegex": False,
        },
    }


def date_histogram_column(field: str = "published_at", label: str = "Published") -> dict:
    return {
        "label": label,
        "customLabel": True,
        "dataType": "date",
        "operationType": "date_histogram",
        "isBucketed": True,
        "scale": "interval",
        "sourceField": field,
        "params": {"interval": "auto", "includeEmptyRows": True, "dropPartials": False},
    }


def lens(
    slug: str,
    title: str,
    description: str,
    visualization_type: str,
    columns: dict[str, dict],
    visualization: dict,
    query: str = "",
) -> dict:
    """A Lens visualisation with one layer on the data view (`columns` in display order)."""
    layer = stable_id(slug, "layer")
    return saved_object(
        "lens",
        f"newsflow-lens-{slug}",
        {
            "title": title,
            "description": description,
            "visualizationType": visualization_type,
            "state": {
                "datasourceStates": {
                    "formBased": {
                        "layers": {
                            layer: {
                                "columns": columns,
                                "columnOrder": list(columns),
                                "incompleteColumns": {},
                            }
                        }
                    }
                },
                "visualization": {**visualization, "layerId": layer, "layerType": "data"}
                if "layers" not in visualization
                else {
                    **visualization,
                    "layers": [{**lay, "layerId": layer, "layerType": "data"} for lay in visualization["layers"]],
                },
                "query": kql(query),
                "filters": [],
                "internalReferences": [],
                "adHocDataViews": {},
            },
        },
        [{"id": DATA_VIEW_ID, "name": f"indexpattern-datasource-layer-{layer}", "type": "index-pattern"}],
    )


def column_id(slug: str, name: str) -> str:
    return stable_id(slug, "column", name)


def over_time(slug: str, title: str, field: str, label: str) -> dict:
    """Stacked bars: articles per time bucket, split by the top values of a field."""
    x, split, y = (column_id(slug, n) for n in ("x", "split", "y"))
    return lens(
        slug,
        title,
        f"Articles per time bucket (published_at) by {label.lower()}.",
        "lnsXY",
        # split before x: Lens nests aggregations in column order, so the top values are taken over
        # the whole time range, not per bucket (stable series)
        {split: terms_column(field, label, y, size=8), x: date_histogram_column(), y: count_column()},
        {
            "preferredSeriesType": "bar_stacked",
            "legend": {"isVisible": True, "position": "right"},
            "valueLabels": "hide",
            "fittingFunction": "None",
            "axisTitlesVisibilitySettings": {"x": False, "yLeft": True, "yRight": True},
            "layers": [{"seriesType": "bar_stacked", "xAccessor": x, "splitAccessor": split, "accessors": [y]}],
        },
    )


def top_values(slug: str, title: str, field: str, label: str, size: int = 15) -> dict:
    """Horizontal bars: the most frequent values of a keyword field."""
    terms, y = column_id(slug, "terms"), column_id(slug, "y")
    return lens(
        slug,
        title,
        f"The {size} most mentioned {label.lower()} ({field}), by number of articles.",
        "lnsXY",
        {terms: terms_column(field, label, y, size=size, other=False), y: count_column()},
        {
            "preferredSeriesType": "bar_horizontal",
            "legend": {"isVisible": False, "position": "right"},
            "valueLabels": "show",
            "fittingFunction": "None",
            "axisTitlesVisibilitySettings": {"x": False, "yLeft": False, "yRight": False},
            "layers": [{"seriesType": "bar_horizontal", "xAccessor": terms, "accessors": [y]}],
        },
    )


def topics() -> dict:
    slug = "topics"
    terms, y = column_id(slug, "terms"), column_id(slug, "y")
    return lens(
        slug,
        "News: topics",
        "Share of articles per topic (topics.name).",
        "lnsPie",
        {terms: terms_column("topics.name", "Topic", y, size=12), y: count_column()},
        {
            "shape": "treemap",
            "palette": {"type": "palette", "name": "default"},
            "layers": [
                {
                    "primaryGroups": [terms],
                    "metrics": [y],
                    "numberDisplay": "percent",
                    "categoryDisplay": "default",
                    "legendDisplay": "default",
                    "nestedLegend": False,
                }
            ],
        },
    )


def story_clusters() -> dict:
    """The biggest stories: clusters carried by the most outlets."""
    slug = "story-clusters"
    story, outlets, articles, headline, first = (
        column_id(slug, n) for n in ("story", "outlets", "articles", "headline", "first")
    )
    columns = {
        story: terms_column("dedup.cluster_id", "Story (cluster)", outlets, size=20, other=False),
        outlets: {
            "label": "Outlets",
            "customLabel": True,
            "dataType": "number",
            "operationType": "unique_count",
            "isBucketed": False,
            "scale": "ratio",
            "sourceField": "source.name",
            "params": {"emptyAsNull": True},
        },
        articles: count_column("Articles (with duplicates)"),
        headline: {
            "label": "Latest headline",
            "customLabel": True,
            "dataType": "string",
            "operationType": "last_value",
            "isBucketed": False,
            "scale": "ordinal",
            "sourceField": "title_en.keyword",
            "params": {"sortField": "published_at", "showArrayValues": False},
        },
        first: {
            "label": "First published",
            "customLabel": True,
            "dataType": "date",
            "operationType": "min",
            "isBucketed": False,
            "scale": "ratio",
            "sourceField": "published_at",
            "params": {"emptyAsNull": True},
        },
    }
    return lens(
        slug,
        "News: biggest story clusters",
        "Story clusters (dedup.cluster_id) by the number of outlets that carried them.",
        "lnsDatatable",
        columns,
        {
            "columns": [{"columnId": c} for c in columns],
            "rowHeight": "single",
            "rowHeightLines": 1,
            "sorting": {"columnId": outlets, "direction": "desc"},
        },
    )


def lenses() -> list[dict]:
    return [
        over_time("over-time-language", "News: articles over time by language", "language.code", "Language"),
        over_time("over-time-source", "News: articles over time by outlet", "source.name", "Outlet"),
        top_values("top-people", "News: top people", "persons", "People"),
        top_values("top-places", "News: top places", "places_names", "Places"),
        top_values("top-organisations", "News: top organisations", "organizations", "Organisations"),
        topics(),
        story_clusters(),
    ]


# -- map ---------------------------------------------------------------------------------------


def places_map() -> dict:
    """Places mentioned: clusters of mentions (geotile grid), articles as points when zoomed in."""
    grid_source = {
        "type": "ES_GEO_GRID",
        "id": stable_id("map", "grid-source"),
        "geoField": "places.location",
        "requestType": "point",
        "resolution": "COARSE",
        "metrics": [{"type": "count", "label": "Articles"}],
        "applyGlobalQuery": True,
        "applyGlobalTime": True,
        "applyForceRefresh": True,
        "indexPatternRefName": "layer_1_source_index_pattern",
    }
    docs_source = {
        "type": "ES_SEARCH",
        "id": stable_id("map", "docs-source"),
        "geoField": "places.location",
        "scalingType": "LIMIT",
        "filterByMapBounds": True,
        "sortField": "published_at",
        "sortOrder": "desc",
        "tooltipProperties": ["title_en", "source.name", "places_names", "published_at"],
        "topHitsSize": 1,
        "applyGlobalQuery": True,
        "applyGlobalTime": True,
        "applyForceRefresh": True,
        "indexPatternRefName": "layer_2_source_index_pattern",
    }
    count_field = {"name": "doc_count", "origin": "source"}  # the grid's count metric, not a mapping field
    layers = [
        {
            "id": stable_id("map", "basemap"),
            "type": "EMS_VECTOR_TILE",
            "label": None,
            "minZoom": 0,
            "maxZoom": 24,
            "alpha": 1,
            "visible": True,
            "includeInFitToBounds": True,
            "sourceDescriptor": {"type": "EMS_TMS", "isAutoSelect": True, "lightModeDefault": "road_map_desaturated"},
            "style": {"type": "EMS_VECTOR_TILE", "color": ""},
        },
        {
            "id": stable_id("map", "grid"),
            "type": "GEOJSON_VECTOR",
            "label": "Mentions (clusters)",
            "minZoom": 0,
            "maxZoom": 7,
            "alpha": 0.8,
            "visible": True,
            "includeInFitToBounds": True,
            "joins": [],
            "sourceDescriptor": grid_source,
            "style": {
                "type": "VECTOR",
                "isTimeAware": True,
                "properties": {
                    "fillColor": {"type": "STATIC", "options": {"color": "#D36086"}},
                    "lineColor": {"type": "STATIC", "options": {"color": "#FFFFFF"}},
                    "lineWidth": {"type": "STATIC", "options": {"size": 1}},
                    "iconSize": {
                        "type": "DYNAMIC",
                        "options": {
                            "field": count_field,
                            "minSize": 6,
                            "maxSize": 32,
                            "fieldMetaOptions": {"isEnabled": True, "sigma": 3},
                        },
                    },
                    "labelText": {"type": "DYNAMIC", "options": {"field": count_field}},
                    "symbolizeAs": {"options": {"value": "circle"}},
                },
            },
        },
        {
            "id": stable_id("map", "docs"),
            "type": "GEOJSON_VECTOR",
            "label": "Articles",
            "minZoom": 7,
            "maxZoom": 24,
            "alpha": 0.9,
            "visible": True,
            "includeInFitToBounds": True,
            "joins": [],
            "sourceDescriptor": docs_source,
            "style": {
                "type": "VECTOR",
                "isTimeAware": True,
                "properties": {
                    "fillColor": {"type": "STATIC", "options": {"color": "#6092C0"}},
                    "lineColor": {"type": "STATIC", "options": {"color": "#FFFFFF"}},
                    "lineWidth": {"type": "STATIC", "options": {"size": 1}},
                    "iconSize": {"type": "STATIC", "options": {"size": 7}},
                    "symbolizeAs": {"options": {"value": "circle"}},
                },
            },
        },
    ]
    map_state = {
        "zoom": 3.2,
        "center": {"lon": 31.0, "lat": 49.0},
        "timeFilters": {"from": "now-7d", "to": "now"},
        "refreshConfig": {"isPaused": True, "interval": 0},
        "query": kql(),
        "filters": [],
        "settings": {"autoFitToDataBounds": False},
    }
    return saved_object(
        "map",
        "newsflow-map-places",
        {
            "title": "News: map of places",
            "description": "Places the articles mention (places.location, geocoded offline by the enrich stage).",
            "mapStateJSON": json.dumps(map_state),
            "layerListJSON": json.dumps(layers),
            "uiStateJSON": json.dumps({"isLayerTOCOpen": True, "openTOCDetails": []}),
        },
        [
            {"id": DATA_VIEW_ID, "name": "layer_1_source_index_pattern", "type": "index-pattern"},
            {"id": DATA_VIEW_ID, "name": "layer_2_source_index_pattern", "type": "index-pattern"},
        ],
    )


# -- dashboard ---------------------------------------------------------------------------------

# (object, x, y, w, h) on Kibana's 48-column grid
LAYOUT = [
    ("newsflow-lens-over-time-language", 0, 0, 24, 13),
    ("newsflow-lens-over-time-source", 24, 0, 24, 13),
    ("newsflow-lens-top-people", 0, 13, 16, 15),
    ("newsflow-lens-top-places", 16, 13, 16, 15),
    ("newsflow-lens-top-organisations", 32, 13, 16, 15),
    ("newsflow-map-places", 0, 28, 30, 18),
    ("newsflow-lens-topics", 30, 28, 18, 18),
    ("newsflow-lens-story-clusters", 0, 46, 48, 15),
    ("newsflow-search-latest-quotes", 0, 61, 48, 16),
]
CONTROLS = [  # options-list controls above the dashboard: (field, title)
    ("source.name", "Outlet"),
    ("language.code", "Language"),
    ("translation.status", "Translation"),
    ("topics.name", "Topic"),
]


def dashboard(objects: dict[str, dict]) -> dict:
    """The desk's dashboard: by-reference panels on the objects above, plus filter controls."""
    panels, references = [], []
    for object_id, x, y, w, h in LAYOUT:
        target = objects[object_id]
        index = stable_id("panel", object_id)
        panels.append(
            {
                "version": "8.7.0",
                "type": target["type"],
                "panelIndex": index,
                "gridData": {"x": x, "y": y, "w": w, "h": h, "i": index},
                "embeddableConfig": {"enhancements": {}},
                "panelRefName": f"panel_{index}",
            }
        )
        references.append({"id": object_id, "name": f"{index}:panel_{index}", "type": target["type"]})
    controls = {}
    for order, (field, title) in enumerate(CONTROLS):
        control = stable_id("control", field)
        controls[control] = {
            "order": order,
            "width": "medium",
            "grow": True,
            "type": "optionsListControl",
            "explicitInput": {
                "id": control,
                "fieldName": field,
                "title": title,
                "singleSelect": False,
                "enhancements": {},
            },
        }
        references.append(
            {"id": DATA_VIEW_ID, "name": f"controlGroup_{control}:optionsListDataView", "type": "index-pattern"}
        )
    return saved_object(
        "dashboard",
        "newsflow-dashboard",
        {
            "title": "News desk",
            "description": (
                "What came in, from whom, in which language; who and where the news is about; "
                "the biggest stories and the latest quotes."
            ),
            "panelsJSON": json.dumps(panels),
            "optionsJSON": json.dumps(
                {
                    "useMargins": True,
                    "syncColors": False,
                    "syncCursor": True,
                    "syncTooltips": False,
                    "hidePanelTitles": False,
                }
            ),
            "controlGroupInput": {
                "controlStyle": "oneLine",
                "chainingSystem": "HIERARCHICAL",
                "panelsJSON": json.dumps(controls),
                "ignoreParentSettingsJSON": json.dumps(
                    {"ignoreFilters": False, "ignoreQuery": False, "ignoreTimerange": False, "ignoreValidations": False}
                ),
            },
            "timeRestore": True,
            "timeFrom": "now-7d",
            "timeTo": "now",
            "refreshInterval": {"pause": False, "value": 60000},
            "kibanaSavedObjectMeta": {"searchSourceJSON": json.dumps({"query": kql(), "filter": []})},
            "version": 1,
        },
        references,
    )


def build() -> list[dict]:
    """Every saved object, referenced objects before the objects that reference them."""
    objects = [data_view(), *saved_searches(), *lenses(), places_map()]
    return [*objects, dashboard({o["id"]: o for o in objects})]


def render() -> str:
    """The NDJSON text: one object per line, then the export summary line Kibana writes."""
    objects = build()
    lines = [json.dumps(o, sort_keys=True, ensure_ascii=False) for o in objects]
    lines.append(
        json.dumps(
            {
                "excludedObjects": [],
                "excludedObjectsCount": 0,
                "exportedCount": len(objects),
                "missingRefCount": 0,
                "missingReferences": [],
            },
            sort_keys=True,
        )
    )
    return "\n".join(lines) + "\n"


def main(argv: list[str]) -> int:
    text = render()
    if "--check" in argv:
        if not OUT.exists() or OUT.read_text(encoding="utf-8") != text:
            print(f"{OUT} is out of date: run python {Path(__file__).name}", file=sys.stderr)
            return 1
        return 0
    OUT.write_text(text, encoding="utf-8")
    print(f"wrote {OUT} ({len(build())} objects)")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
