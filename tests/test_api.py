"""The JSON API: the public programme as documented, errors as JSON, a fixed query count."""

from __future__ import annotations

import re
from datetime import UTC, datetime, timedelta

import pytest
from jsonschema import Draft202012Validator
from referencing import Registry, Resource
from referencing.jsonschema import DRAFT202012

from portal.extensions import db
from portal.models import (
    Organisation,
    Presentation,
    Presenter,
    PresenterRole,
    Series,
    Webinar,
    WebinarLanguage,
    WebinarStatus,
)
from portal.services.demo import load_demo_series
from tests.factories import (
    make_organisation,
    make_presentation,
    make_presenter,
    make_series,
    make_webinar,
    now,
)

BASE = "http://portal.test"
SERIES_SLUG = "combatting-online-child-sexual-exploitation-2022-2023"
MAVERICK_WEBINAR = "sextortion-and-emerging-trends"
UTC_ISO = re.compile(r"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ$")


@pytest.fixture
def demo(app):
    load_demo_series()
    db.session.commit()


@pytest.fixture
def openapi(client):
    response = client.get("/api/v1/openapi.json")
    assert response.status_code == 200
    return response.get_json()


def response_schema(document: dict, path: str, status: int) -> Draft202012Validator:
    """A validator for the schema the document promises for ``path`` answering ``status``."""
    operation = document["paths"][path]["get"]
    schema = operation["responses"][str(status)]["content"]["application/json"]["schema"]
    registry = Registry().with_resource("urn:portal-openapi", Resource.from_contents(
        document, default_specification=DRAFT202012))
    ref = schema["$ref"].replace("#", "urn:portal-openapi#", 1) if "$ref" in schema else None
    return Draft202012Validator({"$ref": ref} if ref else schema, registry=registry)


def assert_matches(document: dict, path: str, response) -> None:
    validator = response_schema(document, path, response.status_code)
    errors = sorted(validator.iter_errors(response.get_json()), key=lambda e: list(e.path))
    assert not errors, [f"{list(e.path)}: {e.message}" for e in errors[:5]]


# --- the demo series through the API ------------------------------------------------------------

def test_webinars_carry_the_seed_programme(client, demo):
    response = client.get("/api/v1/webinars")
    assert response.status_code == 200
    assert response.mimetype == "application/json"
    body = response.get_json()
    assert body["count"] == 3
    first, second, third = body["webinars"]
    assert first["title"] == "The Use of Technology in Combatting Online Child Sexual Exploitation"
    assert first["starts_at"] == "2022-12-02T18:00:00Z"
    assert first["ends_at"] == "2022-12-02T19:30:00Z"
    assert first["timezone"] == "America/Toronto"
    assert first["status"] == "published"
    assert first["language"] is None and first["capacity"] is None
    assert first["url"] == f"{BASE}/webinars/{first['slug']}"
    assert first["ics_url"] == f"{BASE}/webinars/{first['slug']}.ics"
    assert first["series"] == {
        "slug": SERIES_SLUG,
        "title": "Combatting Online Child Sexual Exploitation",
        "url": f"{BASE}/series/{SERIES_SLUG}",
        "title_i18n": {"en": "Combatting Online Child Sexual Exploitation", "fr": None},
    }
    assert [second["starts_at"], third["starts_at"]] == ["2023-01-27T18:00:00Z", "2023-02-24T18:00:00Z"]
    assert sum(len(w["presentations"]) for w in body["webinars"]) == 9
    assert "join_url" not in first  # only confirmed registrants ever see it


def test_presentations_nest_presenters_in_billing_order_with_roles(client, demo):
    webinar = client.get(f"/api/v1/webinars/{MAVERICK_WEBINAR}").get_json()
    talks = webinar["presentations"]
    assert [t["position"] for t in talks] == [0, 1, 2]
    assert talks[1]["title"] == "Project Maverick"
    zimmer, brown = talks[1]["presenters"]
    assert zimmer["display_name"] == "Detective Lesley Zimmer"
    assert zimmer["roles"] == [{
        "title": None, "unit": "Internet Child Exploitation Unit",
        "organisation": {"name": "Toronto Police Service", "acronym": None, "website": None, "country": None,
                         "name_i18n": {"en": "Toronto Police Service", "fr": None},
                         "acronym_i18n": {"en": None, "fr": None}},
        "title_i18n": {"en": None, "fr": None},
        "unit_i18n": {"en": "Internet Child Exploitation Unit", "fr": None},
    }]
    assert brown["name"] == "Timothy (Tim) Brown"
    assert brown["honorific"] == "Detective Staff Sergeant"
    assert brown["url"] == f"{BASE}/presenters/{brown['slug']}"
    assert [p["name"] for p in talks[2]["presenters"]] == ["Kelly Barker", "Jacques Marcoux"]
    team = talks[0]["presenters"][0]
    assert team["is_team"] is True
    assert [r["unit"] for r in team["roles"]] == [
        "National Child Exploitation Crime Centre", "Sensitive and Specialized Investigative Services"]


def test_presenters_list_everyone_with_post_nominals_and_talks(client, demo):
    body = client.get("/api/v1/presenters").get_json()
    assert body["count"] == 11
    people = {p["name"]: p for p in body["presenters"]}
    assert people["Simon Bailey"]["post_nominals"] == "CBE, QPM, DL"
    assert people["Simon Bailey"]["display_name"] == "Simon Bailey, CBE, QPM, DL"
    assert people["Sarah Paquette"]["roles"][0]["organisation"]["name"] == "Sûreté du Québec"
    assert [r["title"] for r in people["Sherry Torres"]["roles"]] == [
        "Police Detective", "Digital Forensic Examiner", "UN Consultant", "Griffeye Trainer"]
    talk = people["Lloyd Richardson"]["presentations"][0]
    assert talk["title"] == "Project Arachnid: Industry and the Proactive Detection of CSAM"
    assert talk["webinar"]["starts_at"] == "2022-12-02T18:00:00Z"
    assert talk["webinar"]["url"].startswith(f"{BASE}/webinars/")
    # People by name, the team last: a stable order.
    assert body["presenters"][-1]["is_team"] is True
    names = [p["name"] for p in body["presenters"][:-1]]
    assert names == sorted(names)


def test_times_are_utc_whatever_the_season(client, app):
    series = make_series(timezone="America/Toronto")
    summer = datetime(2030, 7, 5, 13, 0, tzinfo=UTC) + timedelta(hours=4)  # 13:00 EDT
    make_webinar(series, slug="summer", starts_at=summer, duration_minutes=45)
    db.session.commit()
    webinar = client.get("/api/v1/webinars/summer").get_json()
    assert webinar["starts_at"] == "2030-07-05T17:00:00Z"
    assert webinar["ends_at"] == "2030-07-05T17:45:00Z"
    assert UTC_ISO.match(webinar["starts_at"])


# --- what the public may see ---------------------------------------------------------------------------

def test_drafts_and_unpublished_series_never_appear(client, app):
    series = make_series()
    make_webinar(series, slug="open", status=WebinarStatus.PUBLISHED)
    make_webinar(series, slug="called-off", status=WebinarStatus.CANCELLED)
    make_webinar(series, slug="secret", status=WebinarStatus.DRAFT)
    make_webinar(make_series(published=False), slug="hidden-series")
    db.session.commit()
    body = client.get("/api/v1/webinars").get_json()
    assert {w["slug"]: w["status"] for w in body["webinars"]} == {"open": "published", "called-off": "cancelled"}
    for slug in ("secret", "hidden-series"):
        response = client.get(f"/api/v1/webinars/{slug}")
        assert response.status_code == 404
        assert response.get_json()["error"]["status"] == 404


def test_presenters_of_drafts_only_stay_hidden(client, app):
    draft = make_webinar(status=WebinarStatus.DRAFT)
    make_presentation(draft, [make_presenter(name="Not Yet Announced")])
    public = make_webinar()
    make_presentation(public, [make_presenter(name="Announced")])
    db.session.commit()
    names = [p["name"] for p in client.get("/api/v1/presenters").get_json()["presenters"]]
    assert names == ["Announced"]


def test_filter_by_when_and_series(client, app):
    series = make_series(slug="autumn")
    make_webinar(series, slug="done", starts_at=now() - timedelta(days=3))
    make_webinar(series, slug="soon", starts_at=now() + timedelta(days=3))
    # Started 30 minutes ago and still running: not yet past.
    make_webinar(make_series(slug="other"), slug="running", starts_at=now() - timedelta(minutes=30))
    db.session.commit()

    def slugs(query: str) -> list[str]:
        response = client.get(f"/api/v1/webinars{query}")
        assert response.status_code == 200, response.get_data(as_text=True)
        return [w["slug"] for w in response.get_json()["webinars"]]

    assert slugs("") == ["done", "running", "soon"]
    assert slugs("?when=upcoming") == ["running", "soon"]
    assert slugs("?when=past") == ["done"]
    assert slugs("?series=autumn") == ["done", "soon"]
    assert slugs("?series=autumn&when=past") == ["done"]
    assert slugs("?series=no-such-series") == []


@pytest.mark.parametrize("query, message", [
    ("?when=tomorrow", "'when' must be one of: upcoming, past"),
    ("?when=", "'when' must be one of"),
    ("?when=UPCOMING", "'when' must be one of"),
    ("?page=2", "Unknown query parameter: page"),
    ("?series=" + "x" * 121, "'series' must be a slug"),
    ("?series=%00", "'series' must be a slug"),
])
def test_bad_query_parameters_get_400_json_with_a_message(client, app, query, message):
    response = client.get(f"/api/v1/webinars{query}")
    assert response.status_code == 400
    error = response.get_json()["error"]
    assert error["status"] == 400
    assert message in error["detail"]


@pytest.mark.parametrize("path", ["/api/v1/webinars/no-such-webinar", "/api/v1/webinars/" + "a" * 300,
                                  "/api/v1/webinars/%C3%A9t%C3%A9", "/api/v1/nothing-here"])
def test_unknown_things_get_404_json(client, app, path):
    response = client.get(path)
    assert response.status_code == 404
    assert response.mimetype == "application/json"
    assert response.get_json()["error"]["status"] == 404


@pytest.mark.parametrize("method", ["post", "put", "delete", "patch"])
def test_writing_is_not_allowed(client, app, method):
    response = getattr(client, method)("/api/v1/webinars")
    assert response.status_code == 405
    assert response.get_json()["error"]["status"] == 405
    assert "GET" in response.headers["Allow"]


def test_public_data_is_readable_cross_origin_and_cacheable(client, demo):
    response = client.get("/api/v1/webinars", headers={"Origin": "https://elsewhere.example"})
    assert response.headers["Access-Control-Allow-Origin"] == "*"
    assert response.headers["Cache-Control"] == "public, max-age=0, s-maxage=5, stale-while-revalidate=30"
    etag = response.headers["ETag"]
    again = client.get("/api/v1/webinars", headers={"If-None-Match": etag})
    assert again.status_code == 304
    assert client.get("/api/v1/webinars/nope").headers["Access-Control-Allow-Origin"] == "*"


# --- the OpenAPI document -------------------------------------------------------------------------------

def test_openapi_describes_exactly_the_api_routes(app, openapi):
    assert openapi["openapi"].startswith("3.1")
    assert openapi["servers"] == [{"url": BASE}]
    documented = {re.sub(r"\{(\w+)\}", r"<\1>", path) for path in openapi["paths"]}
    routes = {rule.rule for rule in app.url_map.iter_rules() if rule.endpoint.startswith("api.")}
    assert documented == routes
    for schema in openapi["components"]["schemas"].values():
        Draft202012Validator.check_schema(schema)


def test_every_answer_matches_its_documented_schema(client, demo, openapi):
    cancelled = make_webinar(status=WebinarStatus.CANCELLED, language=WebinarLanguage.BILINGUAL, capacity=40,
                             registration_opens_at=now() - timedelta(days=1), recording_url="https://v.example/1")
    db.session.commit()
    cases = [
        ("/api/v1/webinars", "/api/v1/webinars"),
        ("/api/v1/webinars?when=past", "/api/v1/webinars"),
        ("/api/v1/webinars?when=nope", "/api/v1/webinars"),
        (f"/api/v1/webinars/{MAVERICK_WEBINAR}", "/api/v1/webinars/{slug}"),
        (f"/api/v1/webinars/{cancelled.slug}", "/api/v1/webinars/{slug}"),
        ("/api/v1/webinars/nope", "/api/v1/webinars/{slug}"),
        ("/api/v1/presenters", "/api/v1/presenters"),
        ("/api/v1/presenters?x=1", "/api/v1/presenters"),
    ]
    for url, path in cases:
        response = client.get(url)
        assert_matches(openapi, path, response)
    assert_matches(openapi, "/api/v1/webinars", client.post("/api/v1/webinars"))


def test_schema_check_catches_an_undocumented_field(client, demo, openapi):
    """The schemas are strict: a field the document does not name is an error, not ignored."""
    body = client.get(f"/api/v1/webinars/{MAVERICK_WEBINAR}").get_json()
    body["presentations"][0]["presenters"][0]["email"] = "someone@example.org"
    validator = response_schema(openapi, "/api/v1/webinars/{slug}", 200)
    assert not validator.is_valid(body)


# --- cost -----------------------------------------------------------------------------------------------

def add_webinars(series: Series, organisation: Organisation, first: int, count: int) -> None:
    """Many webinars in one flush (factories flush each row, too slow for hundreds)."""
    for n in range(first, first + count):
        talk = Presentation(position=0, title=f"Talk {n}", presenters=[
            Presenter(slug=f"person-{n}", name=f"Person {n}",
                      roles=[PresenterRole(title="Analyst", organisation=organisation)]),
            Presenter(slug=f"doctor-{n}", name=f"Doctor {n}", honorific="Dr.", roles=[PresenterRole(unit="Unit")]),
        ])
        db.session.add(Webinar(series=series, slug=f"webinar-bulk-{n}", title=f"Webinar {n}",
                               starts_at=now() + timedelta(days=n - 2), status=WebinarStatus.PUBLISHED,
                               presentations=[talk]))
    db.session.commit()
    db.session.expire_all()


def test_query_count_does_not_grow_with_the_programme(client, app, count_queries):
    paths = ["/api/v1/webinars", "/api/v1/webinars?when=upcoming", "/api/v1/webinars?when=past",
             "/api/v1/presenters"]
    series, organisation = make_series(), make_organisation()

    def cost() -> dict[str, int]:
        counts = {}
        for path in paths:
            with count_queries() as counter:
                response = client.get(path)
            assert response.status_code == 200
            counts[path] = counter.count
        return counts

    add_webinars(series, organisation, 0, 3)
    small = cost()
    assert client.get("/api/v1/webinars").get_json()["count"] == 3
    add_webinars(series, organisation, 3, 297)
    large = cost()  # before any other GET: a repeat would come from the page cache
    assert client.get("/api/v1/webinars").get_json()["count"] == 300
    assert large == small


def test_detail_query_count_does_not_grow_with_presenters(client, app, count_queries):
    counts = []
    for size in (1, 30):
        webinar = make_webinar()
        for _ in range(3):
            make_presentation(webinar, [make_presenter(make_organisation()) for _ in range(size)])
        db.session.commit()
        db.session.expire_all()
        with count_queries() as counter:
            assert client.get(f"/api/v1/webinars/{webinar.slug}").status_code == 200
        counts.append(counter.count)
    assert counts[0] == counts[1], counts
