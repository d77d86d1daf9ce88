"""Kibana: imports the saved objects through its saved-objects API; lists the index fields they use."""

from __future__ import annotations

import base64
import json
import re
import socket
import urllib.error
import urllib.parse
import urllib.request
import uuid
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from pathlib import Path

from pydantic import SecretStr

RECORDS = "___records___"  # Lens's pseudo-field for "count of documents"
_KQL_STRING = re.compile(r'"(?:[^"\\]|\\.)*"')
_KQL_FIELD = re.compile(r"(?<![\w.*@-])([A-Za-z_@][\w.@-]*)\s*(?::|<=|>=|<|>)")


class KibanaError(RuntimeError):
    """Kibana refused or could not serve a request; the message says why."""


class KibanaUnreachable(KibanaError):
    """No answer from Kibana: connection refused, unknown host, timeout."""


class KibanaImportError(KibanaError):
    """Kibana answered the import with `success: false`; `errors` are its per-object errors."""

    def __init__(self, message: str, errors: list[dict]) -> None:
        super().__init__(message)
        self.errors = errors


@dataclass(frozen=True)
class ImportResult:
    """What Kibana reported for a successful import."""

    success_count: int
    objects: tuple[tuple[str, str, str], ...]  # (type, id, title)
    warnings: tuple[str, ...]


@dataclass(frozen=True)
class FieldReference:
    """One use of an index field by a saved object."""

    field: str
    aggregated: bool  # needs doc values: aggregations, sorting, Discover's histogram
    object_type: str
    object_id: str
    where: str


def read_saved_objects(ndjson_path: str | Path) -> list[dict]:
    """The saved objects of an export file, without its summary line; KibanaError names a bad line."""
    path = Path(ndjson_path)
    try:
        text = path.read_text(encoding="utf-8")
    except OSError as exc:
        raise KibanaError(f"cannot read saved objects file {path}: {exc.strerror or exc}") from None
    objects = []
    for number, line in enumerate(text.splitlines(), start=1):
        if not line.strip():
            continue
        try:
            obj = json.loads(line)
        except json.JSONDecodeError as exc:
            raise KibanaError(f"{path}:{number}: not JSON ({exc.msg})") from None
        if not isinstance(obj, dict):
            raise KibanaError(f"{path}:{number}: not a JSON object")
        if "exportedCount" in obj and "type" not in obj:
            continue  # the export summary Kibana appends; it ignores it on import too
        if not obj.get("type") or not obj.get("id"):
            raise KibanaError(f"{path}:{number}: a saved object needs a type and an id")
        objects.append(obj)
    if not objects:
        raise KibanaError(f"{path}: no saved objects")
    return objects


def import_saved_objects(
    kibana_url: str,
    ndjson_path: str | Path,
    *,
    username: str | None = None,
    password: str | SecretStr | None = None,
    api_key: str | SecretStr | tuple[str, str] | None = None,
    space: str | None = None,
    overwrite: bool = True,
    timeout: float = 30,
    index_alias: str | None = None,
) -> ImportResult:
    """POST the NDJSON to Kibana's `_import` API; raise KibanaError unless every object was imported.

    `password` and `api_key` may be plain strings or pydantic SecretStr; `api_key` is the encoded
    key Elasticsearch returns (or an `(id, key)` pair) and wins over basic auth. `index_alias`, when
    given, becomes the title of every data view (for a non-default NEWSFLOW_INDEX_ALIAS).
    """
    objects = read_saved_objects(ndjson_path)
    if index_alias:
        for obj in objects:
            if obj["type"] == "index-pattern":
                obj["attributes"]["title"] = index_alias
    payload = "".join(json.dumps(o, ensure_ascii=False) + "\n" for o in objects).encode("utf-8")
    url = _import_url(kibana_url, space, overwrite)
    boundary = f"newsflow-{uuid.uuid4().hex}"
    body = b"".join([
        f"--{boundary}\r\n".encode(),
        f'Content-Disposition: form-data; name="file"; filename="{Path(ndjson_path).name}"\r\n'.encode(),
        b"Content-Type: application/ndjson\r\n\r\n",
        payload,
        f"\r\n--{boundary}--\r\n".encode(),
    ])
    headers = {
        "kbn-xsrf": "newsflow",  # Kibana refuses state-changing API calls without it
        "Content-Type": f"multipart/form-data; boundary={boundary}",
        "Accept": "application/json",
        "User-Agent": "newsflow",
    }
    auth = _authorization(username, password, api_key)
    if auth:
        headers["Authorization"] = auth
    request = urllib.request.Request(url, data=body, headers=headers, method="POST")
    answer = _send(request, url, timeout)
    if answer.get("success") is True:
        return ImportResult(
            success_count=int(answer.get("successCount", 0)),
            objects=tuple((r.get("type", "?"), r.get("id", "?"), (r.get("meta") or {}).get("title", ""))
                          for r in answer.get("successResults") or ()),
            warnings=tuple(w.get("message", str(w)) for w in answer.get("warnings") or ()),
        )
    errors = answer.get("errors") or []
    if not errors:
        raise KibanaError(f"Kibana at {url} did not confirm the import: {json.dumps(answer)[:500]}")
    described = "; ".join(_describe_error(e) for e in errors)
    raise KibanaImportError(
        f"Kibana imported {answer.get('successCount', 0)} of {len(objects)} saved objects; "
        f"{len(errors)} failed: {described}",
        errors,
    )


def _import_url(kibana_url: str, space: str | None, overwrite: bool) -> str:
    base = kibana_url.rstrip("/")
    if space and space != "default":
        base += f"/s/{urllib.parse.quote(space, safe='')}"
    url = f"{base}/api/saved_objects/_import"
    return f"{url}?overwrite=true" if overwrite else url


def _secret(value: str | SecretStr | None) -> str | None:
    if value is None:
        return None
    return value.get_secret_value() if hasattr(value, "get_secret_value") else str(value)


def _authorization(username: str | None, password, api_key) -> str | None:
    if api_key is not None:
        if isinstance(api_key, tuple):
            key_id, key = api_key
            return "ApiKey " + base64.b64encode(f"{key_id}:{_secret(key)}".encode()).decode()
        return f"ApiKey {_secret(api_key)}"
    if username:
        return "Basic " + base64.b64encode(f"{username}:{_secret(password) or ''}".encode()).decode()
    return None


_HINTS = {
    401: "check the Kibana username/password or API key",
    403: "the user may not write saved objects in this space",
    404: "is this Kibana, with the right base path and space?",
    413: "the file exceeds Kibana's savedObjects.maxImportPayloadBytes",
    503: "Kibana is not ready yet; retry when its status is available",
}


def _send(request: urllib.request.Request, url: str, timeout: float) -> dict:
    try:
        with urllib.request.urlopen(request, timeout=timeout) as response:
            raw = response.read()
    except urllib.error.HTTPError as exc:
        detail = exc.read().decode("utf-8", "replace")
        try:
            parsed = json.loads(detail)
            detail = parsed.get("message") or detail
        except (json.JSONDecodeError, AttributeError):
            pass
        hint = f" ({_HINTS[exc.code]})" if exc.code in _HINTS else ""
        raise KibanaError(f"Kibana at {url} answered HTTP {exc.code} {exc.reason}: {detail.strip()[:500]}{hint}") from None
    except urllib.error.URLError as exc:
        reason = exc.reason
        if isinstance(reason, (TimeoutError, socket.timeout)):
            raise KibanaUnreachable(f"Kibana at {url} did not answer within {timeout}s") from None
        raise KibanaUnreachable(f"cannot reach Kibana at {url}: {reason}") from None
    except (TimeoutError, socket.timeout):
        raise KibanaUnreachable(f"Kibana at {url} did not answer within {timeout}s") from None
    except ConnectionError as exc:
        raise KibanaUnreachable(f"cannot reach Kibana at {url}: {exc}") from None
    try:
        answer = json.loads(raw)
    except json.JSONDecodeError:
        raise KibanaError(f"Kibana at {url} answered with something that is not JSON: {raw[:200]!r}") from None
    if not isinstance(answer, dict):
        raise KibanaError(f"Kibana at {url} answered with unexpected JSON: {raw[:200]!r}")
    return answer


def _describe_error(error: dict) -> str:
    title = (error.get("meta") or {}).get("title") or error.get("title") or ""
    what = f"{error.get('type', '?')} {error.get('id', '?')}" + (f' "{title}"' if title else "")
    detail = error.get("error") or {}
    kind = detail.get("type", "error")
    if kind == "missing_references":
        refs = ", ".join(f"{r.get('type')}/{r.get('id')}" for r in detail.get("references") or ())
        return f"{what}: missing references {refs}"
    if detail.get("message"):
        return f"{what}: {kind}: {detail['message']}"
    return f"{what}: {kind}"


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
                    yield field["name"], bool((options.get("fieldMetaOptions") or {}).get("isEnabled")), \
                        f"layer {label!r} style"
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
