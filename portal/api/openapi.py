"""The OpenAPI 3.1 description of the API, served at ``/api/v1/openapi.json``.

Written by hand next to ``serialise.py``; the test-suite validates every
endpoint's real answer against these schemas (``additionalProperties: false``
everywhere), so a field added on one side and not the other fails a test.
"""

from __future__ import annotations


def _nullable(kind: str, **extra) -> dict:
    return {"type": [kind, "null"], **extra}


def _object(properties: dict, description: str | None = None) -> dict:
    schema = {
        "type": "object",
        "required": list(properties),
        "additionalProperties": False,
        "properties": properties,
    }
    if description:
        schema["description"] = description
    return schema


def _ref(name: str) -> dict:
    return {"$ref": f"#/components/schemas/{name}"}


I18N = {
    "type": "object",
    "description": "Both versions as the organisers wrote them (null: not written in that language). "
                   "The plain field beside it is the reader's language (Accept-Language or the language "
                   "cookie), falling back to the other version when that one is empty. Added in 1.1.",
    "required": ["en", "fr"],
    "additionalProperties": False,
    "properties": {"en": {"type": ["string", "null"]}, "fr": {"type": ["string", "null"]}},
}


def _bilingual(properties: dict, *fields: str) -> dict:
    """The properties plus ``<field>_i18n`` for each translatable field."""
    return {**properties, **{f"{name}_i18n": I18N for name in fields}}


TIME = {"type": "string", "format": "date-time", "description": "ISO 8601, UTC (ends in Z)."}
URL = {"type": "string", "format": "uri"}
SLUG = {"type": "string", "pattern": "^[a-z0-9]+(?:-[a-z0-9]+)*$"}

SCHEMAS = {
    "Error": _object({
        "error": _object({
            "status": {"type": "integer"},
            "message": {"type": "string", "description": "HTTP reason phrase."},
            "detail": {"type": "string", "description": "What went wrong, for a person to read."},
        }),
    }),
    "Organisation": _object(_bilingual({
        "name": {"type": "string"},
        "acronym": _nullable("string"),
        "website": _nullable("string"),
        "country": _nullable("string"),
    }, "name", "acronym")),
    "Role": _object(_bilingual({
        "title": _nullable("string", description="Job title; empty when only the unit is known."),
        "unit": _nullable("string"),
        "organisation": {"oneOf": [_ref("Organisation"), {"type": "null"}]},
    }, "title", "unit"), "One position a presenter holds; a presenter may hold several."),
    "Presenter": _object(_bilingual({
        "slug": SLUG,
        "name": {"type": "string"},
        "display_name": {"type": "string", "description": "Honorific, name and post-nominals."},
        "honorific": _nullable("string"),
        "post_nominals": _nullable("string"),
        "is_team": {"type": "boolean", "description": "A group (a team of analysts) rather than a person."},
        "bio": {"type": "string"},
        "roles": {"type": "array", "items": _ref("Role")},
        "url": URL,
    }, "honorific", "bio")),
    "Presentation": _object(_bilingual({
        "position": {"type": "integer", "minimum": 0},
        "title": {"type": "string"},
        "abstract": {"type": "string"},
        "presenters": {"type": "array", "items": _ref("Presenter"),
                       "description": "In the order they are billed."},
    }, "title", "abstract")),
    "SeriesReference": _object(_bilingual({"slug": SLUG, "title": {"type": "string"}, "url": URL}, "title")),
    "Webinar": _object(_bilingual({
        "slug": SLUG,
        "title": {"type": "string"},
        "status": {"type": "string", "enum": ["published", "cancelled"]},
        "starts_at": TIME,
        "ends_at": TIME,
        "duration_minutes": {"type": "integer", "minimum": 1},
        "timezone": {"type": "string", "description": "IANA zone in which the series announces its times."},
        "language": {"type": ["string", "null"], "enum": ["en", "fr", "bilingual", None]},
        "description": {"type": "string"},
        "highlights": {"type": "string", "description": "Discussion highlights, written after the session."},
        "capacity": _nullable("integer", minimum=1, description="Seats; null means unlimited."),
        "registration_opens_at": {**TIME, "type": ["string", "null"]},
        "registration_closes_at": {**TIME, "type": ["string", "null"]},
        "recording_url": _nullable("string"),
        "url": URL,
        "ics_url": {**URL, "description": "iCalendar file of this webinar."},
        "series": _ref("SeriesReference"),
        "presentations": {"type": "array", "items": _ref("Presentation")},
    }, "title", "description", "highlights")),
    "WebinarList": _object({
        "count": {"type": "integer", "minimum": 0},
        "webinars": {"type": "array", "items": _ref("Webinar"), "description": "Earliest first."},
    }),
    "TalkReference": _object(_bilingual({
        "title": {"type": "string"},
        "webinar": _object(_bilingual({"slug": SLUG, "title": {"type": "string"}, "starts_at": TIME, "url": URL},
                                      "title")),
    }, "title")),
    "PresenterList": _object({
        "count": {"type": "integer", "minimum": 0},
        "presenters": {"type": "array", "items": _ref("PresenterListItem")},
    }),
}

# A presenter plus the public talks they gave, latest first; spelt out rather than
# allOf because additionalProperties does not see through allOf.
SCHEMAS["PresenterListItem"] = _object({
    **SCHEMAS["Presenter"]["properties"],
    "presentations": {"type": "array", "items": _ref("TalkReference")},
})


def _json(schema_name: str, description: str) -> dict:
    return {"description": description,
            "content": {"application/json": {"schema": _ref(schema_name)}}}


ERRORS = {
    "400": _json("Error", "A query parameter is unknown or has a value the API does not accept."),
    "405": _json("Error", "Only GET (and HEAD) are allowed."),
}


#: Accepted by every path (a path-level parameter): the language of words and page links.
LANGUAGE = {"name": "lang", "in": "query", "required": False,
            "description": "Language of the words and of the page links (`url` under `/fr/` for French); "
                           "without it, the request's Accept-Language decides.",
            "schema": {"type": "string", "enum": ["en", "fr"]}}


def document(base_url: str) -> dict:
    """The whole description; ``base_url`` is the portal's public address."""
    return {
        "openapi": "3.1.0",
        "jsonSchemaDialect": "https://spec.openapis.org/oas/3.1/dialect/base",
        "info": {
            "title": "Webinar portal API",
            "version": "1.1.0",
            "description": (
                "Read-only, public programme data: webinars with their presentations and presenters. "
                "Drafts are never listed. Times are UTC; links are absolute. Responses carry "
                "`Access-Control-Allow-Origin: *` and may be cached for a minute. "
                "Texts are in the reader's language (Accept-Language: en or fr), falling back to the "
                "other when not written in it; since 1.1 every such text also comes as `<field>_i18n` "
                "with both versions (`en`, `fr`, null when not written). 1.1 only adds fields."
            ),
        },
        "servers": [{"url": base_url}],
        "paths": {
            "/api/v1/webinars": {
                "parameters": [LANGUAGE],
                "get": {
                    "operationId": "listWebinars",
                    "summary": "Public webinars (published and cancelled), earliest first.",
                    "parameters": [
                        {"name": "when", "in": "query", "required": False,
                         "description": "upcoming: not yet ended; past: ended.",
                         "schema": {"type": "string", "enum": ["upcoming", "past"]}},
                        {"name": "series", "in": "query", "required": False,
                         "description": "Only the webinars of the series with this slug.",
                         "schema": SLUG},
                    ],
                    "responses": {"200": _json("WebinarList", "The webinars."), **ERRORS},
                },
            },
            "/api/v1/webinars/{slug}": {
                "parameters": [LANGUAGE],
                "get": {
                    "operationId": "getWebinar",
                    "summary": "One public webinar.",
                    "parameters": [{"name": "slug", "in": "path", "required": True, "schema": SLUG}],
                    "responses": {
                        "200": _json("Webinar", "The webinar."),
                        "404": _json("Error", "No public webinar has this slug (drafts included)."),
                        **ERRORS,
                    },
                },
            },
            "/api/v1/presenters": {
                "parameters": [LANGUAGE],
                "get": {
                    "operationId": "listPresenters",
                    "summary": "Presenters who spoke at a public webinar, people first, then teams, by name.",
                    "responses": {"200": _json("PresenterList", "The presenters."), **ERRORS},
                },
            },
            "/api/v1/openapi.json": {
                "parameters": [LANGUAGE],
                "get": {
                    "operationId": "getOpenAPI",
                    "summary": "This document.",
                    "responses": {"200": {"description": "OpenAPI 3.1 document.",
                                          "content": {"application/json": {"schema": {"type": "object"}}}}},
                },
            },
        },
        "components": {"schemas": SCHEMAS},
    }
