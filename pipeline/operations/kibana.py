"""Kibana: imports the saved objects through its saved-objects API; lists the index fields they use."""

from __future__ import annotations

import base64
import json
import socket
import urllib.error
import urllib.parse
import urllib.request
import uuid
from dataclasses import dataclass
from pathlib import Path

from pydantic import SecretStr


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
    body = b"".join(
        [
            f"--{boundary}\r\n".encode(),
            f'Content-Disposition: form-data; name="file"; filename="{Path(ndjson_path).name}"\r\n'.encode(),
            b"Content-Type: application/ndjson\r\n\r\n",
            payload,
            f"\r\n--{boundary}--\r\n".encode(),
        ]
    )
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
            objects=tuple(
                (r.get("type", "?"), r.get("id", "?"), (r.get("meta") or {}).get("title", ""))
                for r in answer.get("successResults") or ()
            ),
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
        raise KibanaError(
            f"Kibana at {url} answered HTTP {exc.code} {exc.reason}: {detail.strip()[:500]}{hint}"
        ) from None
    except urllib.error.URLError as exc:
        reason = exc.reason
        if isinstance(reason, (TimeoutError, socket.timeout)):
            raise KibanaUnreachable(f"Kibana at {url} did not answer within {timeout}s") from None
        raise KibanaUnreachable(f"cannot reach Kibana at {url}: {reason}") from None
    except TimeoutError:
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
