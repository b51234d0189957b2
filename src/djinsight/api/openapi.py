"""The OpenAPI 3 schema of the REST API, served at ``api/schema/``."""

from __future__ import annotations

from djinsight import __version__


def _query(name: str, schema: dict, description: str = "") -> dict:
    """A query parameter; sent empty, it means the same as left out."""
    found = {"name": name, "in": "query", "schema": schema, "allowEmptyValue": True}
    if description:
        found["description"] = description
    return found


_RANGE = [
    _query(
        "period",
        {"type": "integer", "minimum": 1, "maximum": 3660},
        "Last N days, today included (1–3660). Wins over since/until.",
    ),
    _query(
        "since",
        {"type": "string", "format": "date"},
        "First day (YYYY-MM-DD, site time zone, 1900 or later).",
    ),
    _query(
        "until",
        {"type": "string", "format": "date"},
        "Last day, included (YYYY-MM-DD). Defaults to today; a later day means today.",
    ),
]
_CT = _query(
    "content_type",
    {"type": "string", "example": "blog.article"},
    "A tracked model as app_label.model.",
)
_ERRORS = {
    "400": {"$ref": "#/components/responses/BadRequest"},
    "401": {"$ref": "#/components/responses/Unauthorized"},
    "403": {"$ref": "#/components/responses/Forbidden"},
}


def _get(
    summary: str,
    params: list,
    response: dict,
    extra_errors: dict | None = None,
    media_types: tuple[str, ...] = ("application/json",),
) -> dict:
    return {
        "get": {
            "summary": summary,
            "parameters": params,
            "responses": {
                "200": {
                    "description": "OK",
                    "content": {media_type: {"schema": response} for media_type in media_types},
                },
                **_ERRORS,
                **(extra_errors or {}),
            },
        }
    }


def _ref(name: str) -> dict:
    return {"$ref": f"#/components/schemas/{name}"}


def _object(**properties: dict) -> dict:
    """A JSON object that always has every one of ``properties`` (a null where noted)."""
    return {"type": "object", "properties": properties, "required": list(properties)}


_INT = {"type": "integer"}
_STR = {"type": "string"}
_NULLABLE_STR = {"type": "string", "nullable": True}


def schema(base: str = "/djinsight/api/") -> dict:
    number = {"type": "number", "nullable": True}
    return {
        "openapi": "3.0.3",
        "info": {"title": "djinsight analytics API", "version": __version__},
        "servers": [{"url": base.rstrip("/")}],
        "security": [{"bearerAuth": []}, {"sessionAuth": []}],
        "paths": {
            "/stats/{content_type}/{object_id}/": _get(
                "Live figures for one object, including views not flushed yet",
                [
                    {
                        "name": "content_type",
                        "in": "path",
                        "required": True,
                        "schema": {"type": "string"},
                    },
                    {
                        "name": "object_id",
                        "in": "path",
                        "required": True,
                        "schema": {"type": "string"},
                    },
                ],
                _ref("ObjectStats"),
                {"404": {"$ref": "#/components/responses/NotFound"}},
            ),
            "/top/": _get(
                "Most viewed objects in a range, paginated",
                [
                    *_RANGE,
                    _CT,
                    _query(
                        "limit", {"type": "integer", "minimum": 1, "maximum": 100, "default": 10}
                    ),
                    _query(
                        "page", {"type": "integer", "minimum": 1, "maximum": 10000, "default": 1}
                    ),
                ],
                _object(
                    range=_ref("Range"),
                    count=_INT,
                    page=_INT,
                    pages=_INT,
                    next=_NULLABLE_STR,
                    previous=_NULLABLE_STR,
                    results={"type": "array", "items": _ref("ContentRow")},
                ),
            ),
            "/timeseries/": _get(
                "Views per day, week (from Monday) or month",
                [
                    *_RANGE,
                    _CT,
                    _query("object_id", {"type": "string"}, "Needs content_type."),
                    _query(
                        "granularity",
                        {"type": "string", "enum": ["day", "week", "month"], "default": "day"},
                    ),
                ],
                _object(
                    range=_ref("Range"),
                    granularity={"type": "string", "enum": ["day", "week", "month"]},
                    content_type=_NULLABLE_STR,
                    object_id=_NULLABLE_STR,
                    results={"type": "array", "items": _ref("Point")},
                ),
            ),
            "/summary/": _get(
                "Site totals against the previous period, and per content type",
                _RANGE,
                _object(
                    range=_ref("Range"),
                    previous_range=_ref("Range"),
                    views=_INT,
                    unique_visitors=_INT,
                    returning_views=_INT,
                    views_per_visitor={"type": "number"},
                    previous=_object(
                        views=_INT, unique_visitors=_INT, views_per_visitor={"type": "number"}
                    ),
                    change=_object(views=number, unique_visitors=number),
                    content_types={"type": "array", "items": _ref("TypeRow")},
                ),
            ),
            "/audience/": _get(
                "Human views and bots' views by kind (search, AI, other) in a range",
                [*_RANGE, _CT, _query("object_id", {"type": "string"}, "Needs content_type.")],
                _object(
                    range=_ref("Range"),
                    content_type=_NULLABLE_STR,
                    object_id=_NULLABLE_STR,
                    human={**_INT, "description": "Views by people."},
                    search={**_INT, "description": "Views by search crawlers."},
                    ai={**_INT, "description": "Views by AI crawlers."},
                    other={**_INT, "description": "Views by other automated clients."},
                ),
            ),
            "/export/": _get(
                "CSV or NDJSON of daily summaries or raw logs, streamed",
                [
                    *_RANGE,
                    _query(
                        "format", {"type": "string", "enum": ["csv", "ndjson"], "default": "ndjson"}
                    ),
                    _query(
                        "kind",
                        {"type": "string", "enum": ["summaries", "logs"], "default": "summaries"},
                    ),
                ],
                {"type": "string"},
                media_types=("text/csv", "application/x-ndjson"),
            ),
        },
        "components": {
            "securitySchemes": {
                "bearerAuth": {
                    "type": "http",
                    "scheme": "bearer",
                    "description": "A token created in the Django admin.",
                },
                "sessionAuth": {
                    "type": "apiKey",
                    "in": "cookie",
                    "name": "sessionid",
                    "description": "A session holding djinsight.view_analytics (staff or not).",
                },
            },
            "schemas": {
                "Error": _object(error=_object(code=_STR, message=_STR)),
                "Range": _object(
                    since={"type": "string", "format": "date"},
                    until={"type": "string", "format": "date"},
                    days=_INT,
                ),
                "Point": _object(
                    date={"type": "string", "format": "date"},
                    views=_INT,
                    unique_visitors=_INT,
                ),
                "ContentRow": _object(
                    content_type=_STR,
                    object_id=_STR,
                    name=_STR,
                    url=_STR,
                    views=_INT,
                    unique_visitors=_INT,
                    previous_views=_INT,
                    growth_percent=number,
                ),
                "TypeRow": _object(
                    content_type=_STR,
                    name=_STR,
                    views=_INT,
                    unique_visitors=_INT,
                    previous_views=_INT,
                    growth_percent=number,
                    objects=_INT,
                ),
                "ObjectStats": _object(
                    content_type=_STR,
                    object_id=_STR,
                    name=_STR,
                    url=_STR,
                    total_views=_INT,
                    unique_views=_INT,
                    views_today=_INT,
                    views_week=_INT,
                    views_month=_INT,
                    first_viewed_at={"type": "string", "format": "date-time", "nullable": True},
                    last_viewed_at={"type": "string", "format": "date-time", "nullable": True},
                ),
            },
            "responses": {
                name: {
                    "description": text,
                    "content": {"application/json": {"schema": _ref("Error")}},
                }
                for name, text in [
                    ("BadRequest", "A parameter is invalid"),
                    ("Unauthorized", "No valid credentials"),
                    ("Forbidden", "Missing djinsight.view_analytics"),
                    ("NotFound", "No such object"),
                ]
            },
        },
    }
