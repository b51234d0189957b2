"""The OpenAPI 3 schema of the REST API, served at ``api/schema/``."""

from __future__ import annotations

from djinsight import __version__

_RANGE = [
    {
        "name": "period",
        "in": "query",
        "description": "Last N days, today included (1–3660). Wins over since/until.",
        "schema": {"type": "integer", "minimum": 1, "maximum": 3660},
    },
    {
        "name": "since",
        "in": "query",
        "description": "First day (YYYY-MM-DD, site time zone).",
        "schema": {"type": "string", "format": "date"},
    },
    {
        "name": "until",
        "in": "query",
        "description": "Last day, included (YYYY-MM-DD). Defaults to today.",
        "schema": {"type": "string", "format": "date"},
    },
]
_CT = {
    "name": "content_type",
    "in": "query",
    "description": "A tracked model as app_label.model.",
    "schema": {"type": "string", "example": "blog.article"},
}
_ERRORS = {
    "400": {"$ref": "#/components/responses/BadRequest"},
    "401": {"$ref": "#/components/responses/Unauthorized"},
    "403": {"$ref": "#/components/responses/Forbidden"},
}


def _get(summary: str, params: list, response: dict, extra_errors: dict | None = None) -> dict:
    return {
        "get": {
            "summary": summary,
            "parameters": params,
            "responses": {
                "200": {"description": "OK", "content": {"application/json": {"schema": response}}},
                **_ERRORS,
                **(extra_errors or {}),
            },
        }
    }


def _ref(name: str) -> dict:
    return {"$ref": f"#/components/schemas/{name}"}


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
                    {
                        "name": "limit",
                        "in": "query",
                        "schema": {"type": "integer", "minimum": 1, "maximum": 100, "default": 10},
                    },
                    {
                        "name": "page",
                        "in": "query",
                        "schema": {"type": "integer", "minimum": 1, "default": 1},
                    },
                ],
                {
                    "type": "object",
                    "properties": {
                        "range": _ref("Range"),
                        "count": {"type": "integer"},
                        "page": {"type": "integer"},
                        "pages": {"type": "integer"},
                        "next": {"type": "string", "nullable": True},
                        "previous": {"type": "string", "nullable": True},
                        "results": {"type": "array", "items": _ref("ContentRow")},
                    },
                },
            ),
            "/timeseries/": _get(
                "Views per day, week (from Monday) or month",
                [
                    *_RANGE,
                    _CT,
                    {
                        "name": "object_id",
                        "in": "query",
                        "description": "Needs content_type.",
                        "schema": {"type": "string"},
                    },
                    {
                        "name": "granularity",
                        "in": "query",
                        "schema": {
                            "type": "string",
                            "enum": ["day", "week", "month"],
                            "default": "day",
                        },
                    },
                ],
                {
                    "type": "object",
                    "properties": {
                        "range": _ref("Range"),
                        "granularity": {"type": "string"},
                        "results": {"type": "array", "items": _ref("Point")},
                    },
                },
            ),
            "/summary/": _get(
                "Site totals against the previous period, and per content type",
                _RANGE,
                {
                    "type": "object",
                    "properties": {
                        "range": _ref("Range"),
                        "previous_range": _ref("Range"),
                        "views": {"type": "integer"},
                        "unique_visitors": {"type": "integer"},
                        "returning_views": {"type": "integer"},
                        "views_per_visitor": {"type": "number"},
                        "content_types": {"type": "array", "items": {"type": "object"}},
                    },
                },
            ),
            "/export/": _get(
                "CSV or NDJSON of daily summaries or raw logs, streamed",
                [
                    *_RANGE,
                    {
                        "name": "format",
                        "in": "query",
                        "schema": {
                            "type": "string",
                            "enum": ["csv", "ndjson"],
                            "default": "ndjson",
                        },
                    },
                    {
                        "name": "kind",
                        "in": "query",
                        "schema": {
                            "type": "string",
                            "enum": ["summaries", "logs"],
                            "default": "summaries",
                        },
                    },
                ],
                {"type": "string"},
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
                "Error": {
                    "type": "object",
                    "properties": {
                        "error": {
                            "type": "object",
                            "properties": {
                                "code": {"type": "string"},
                                "message": {"type": "string"},
                            },
                        }
                    },
                },
                "Range": {
                    "type": "object",
                    "properties": {
                        "since": {"type": "string", "format": "date"},
                        "until": {"type": "string", "format": "date"},
                        "days": {"type": "integer"},
                    },
                },
                "Point": {
                    "type": "object",
                    "properties": {
                        "date": {"type": "string", "format": "date"},
                        "views": {"type": "integer"},
                        "unique_visitors": {"type": "integer"},
                    },
                },
                "ContentRow": {
                    "type": "object",
                    "properties": {
                        "content_type": {"type": "string"},
                        "object_id": {"type": "string"},
                        "name": {"type": "string"},
                        "url": {"type": "string"},
                        "views": {"type": "integer"},
                        "unique_visitors": {"type": "integer"},
                        "previous_views": {"type": "integer"},
                        "growth_percent": number,
                    },
                },
                "ObjectStats": {
                    "type": "object",
                    "properties": {
                        "content_type": {"type": "string"},
                        "object_id": {"type": "string"},
                        "name": {"type": "string"},
                        "url": {"type": "string"},
                        "total_views": {"type": "integer"},
                        "unique_views": {"type": "integer"},
                        "views_today": {"type": "integer"},
                        "views_week": {"type": "integer"},
                        "views_month": {"type": "integer"},
                        "first_viewed_at": {
                            "type": "string",
                            "format": "date-time",
                            "nullable": True,
                        },
                        "last_viewed_at": {
                            "type": "string",
                            "format": "date-time",
                            "nullable": True,
                        },
                    },
                },
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
