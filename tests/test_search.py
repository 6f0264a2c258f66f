"""Search in both languages, accents and case ignored, with the same results on SQLite and
PostgreSQL and the same number of queries whatever is found."""

from __future__ import annotations

from datetime import timedelta

import pytest
from sqlalchemy import select, text

from portal.extensions import db
from portal.models import Registration
from portal.search import clean_query, folded, query_words
from portal.services import privacy
from tests.factories import (
    make_organisation,
    make_organiser,
    make_presentation,
    make_presenter,
    make_registration,
    make_webinar,
    now,
    sign_in,
)


@pytest.mark.parametrize(("typed", "stored"), [
    ("Quebec", "Québec"), ("QUÉBEC", "québec"), ("zoe", "Zoë"), ("Montreal", "Montréal"),
    ("strasse", "Straße"), ("ile-du-prince-edouard", "Île-du-Prince-Édouard"), ("noel", "Noël"),
    ("garcon", "garçon"), ("  Sûreté   du  ", "sûreté du"), ("ﬁnance", "finance"),
])
def test_folding_makes_the_typed_and_the_stored_text_equal(typed, stored):
    assert folded(stored).find(folded(typed).strip()) >= 0


def test_queries_are_cleaned_and_split():
    assert clean_query("\x00 Zoë\ttremblay " + "x" * 300) == "Zoë tremblay " + "x" * 187
    assert query_words("  Zoë   TREMBLAY ") == ["zoe", "tremblay"]
    assert query_words("") == [] and query_words(None) == []
    assert len(query_words(" ".join("abcdefghijkl"))) == 8


# --- the organiser's registrations ------------------------------------------------------------

@pytest.fixture
def scene(app, client):
    webinar = make_webinar()
    people = {
        "zoe": make_registration(webinar, full_name="Zoë Lévesque", organisation_name="Sûreté du Québec")[0],
        "ada": make_registration(webinar, full_name="Ada Lovelace", email="ada@example.org",
                                 organisation_name="Analytical Society")[0],
        "noel": make_registration(webinar, full_name="NOËL Côté", organisation_name="Ville de Montréal")[0],
        "percent": make_registration(webinar, full_name="Fifty % Off", organisation_name="under_score")[0],
    }
    sign_in(client, make_organiser("viewer"))
    return webinar, people


def names_found(client, webinar, q: str) -> set[str]:
    response = client.get(f"/organiser/webinars/{webinar.id}/registrations", query_string={"q": q})
    assert response.status_code == 200
    page = response.get_data(as_text=True)
    return {name for name in ("Zoë Lévesque", "Ada Lovelace", "NOËL Côté", "Fifty % Off") if name in page}


@pytest.mark.parametrize(("q", "expected"), [
    ("Quebec", {"Zoë Lévesque"}), ("québec", {"Zoë Lévesque"}), ("SURETE", {"Zoë Lévesque"}),
    ("zoe", {"Zoë Lévesque"}), ("levesque zoe", {"Zoë Lévesque"}), ("Zoë Ada", set()),
    ("montreal", {"NOËL Côté"}), ("noel cote", {"NOËL Côté"}), ("Cote", {"NOËL Côté"}),
    ("ADA@EXAMPLE", {"Ada Lovelace"}), ("%", {"Fifty % Off"}), ("_", {"Fifty % Off"}),
    ("e", {"Zoë Lévesque", "Ada Lovelace", "NOËL Côté", "Fifty % Off"}), ("", {"Zoë Lévesque", "Ada Lovelace", "NOËL Côté", "Fifty % Off"}),
    ("\x00quebec", {"Zoë Lévesque"}), ("nobody", set()),
])
def test_registration_search_ignores_accents_and_case(client, scene, q, expected):
    webinar, _ = scene
    assert names_found(client, webinar, q) == expected


def test_the_french_page_searches_the_same_way(client, scene):
    webinar, _ = scene
    page = client.get(f"/fr/organiser/webinars/{webinar.id}/registrations?q=quebec").get_data(as_text=True)
    assert "Zoë Lévesque" in page and "Ada Lovelace" not in page


def test_the_csv_export_uses_the_same_search(client, scene):
    webinar, _ = scene
    body = client.get(f"/organiser/webinars/{webinar.id}/registrations.csv?q=quebec").get_data(as_text=True)
    assert "Zoë Lévesque" in body and "Ada Lovelace" not in body


def test_the_search_text_follows_every_change_and_goes_with_the_personal_data(app, scene):
    _, people = scene
    zoe = people["zoe"]
    assert zoe.search_text == "zoe levesque person" + zoe.email.removeprefix("person") + " surete du quebec" \
        or "zoe levesque" in zoe.search_text
    zoe.organisation_name = "Gendarmerie royale"
    db.session.flush()
    stored = db.session.scalar(select(Registration.search_text).where(Registration.id == zoe.id))
    assert "gendarmerie royale" in stored and "quebec" not in stored
    privacy.erase_registration(zoe)
    db.session.flush()
    assert db.session.scalar(select(Registration.search_text).where(Registration.id == zoe.id)) is None


def test_a_registration_made_through_the_form_is_searchable(client, app):
    webinar = make_webinar(slug="open", capacity=10)
    db.session.commit()
    from tests.conftest import csrf_token_from
    page = client.get("/register/open").get_data(as_text=True)
    client.post("/register/open", data={
        "csrf_token": csrf_token_from(page), "full_name": "Éloïse Bélanger", "email": "E.Belanger@Example.org",
        "organisation_name": "École Saint-Jérôme", "sector": "education", "region": "QC",
        "preferred_language": "fr", "accessibility_needs": "", "consent": "y"})
    stored = db.session.scalar(select(Registration.search_text).where(Registration.webinar_id == webinar.id))
    assert stored == "eloise belanger e.belanger@example.org ecole saint-jerome"


def test_registration_search_costs_the_same_queries_whatever_it_finds(client, scene, count_queries):
    webinar, _ = scene
    counts = {}
    for q in ("", "quebec", "nobody", "e a o"):
        db.session.expire_all()
        with count_queries() as counter:
            assert client.get(f"/organiser/webinars/{webinar.id}/registrations", query_string={"q": q}).status_code == 200
        counts[q] = counter.count
    # The same whatever it finds; a page that finds nobody skips the look-up of their answers.
    assert counts[""] == counts["quebec"] == counts["e a o"] == counts["nobody"] + 1, counts


def test_the_migration_filled_the_column_as_the_model_does(app):
    """Rows written before the column existed are filled with the same folding (checked on the
    live schema: the column exists and LIKE on it behaves the same on both databases)."""
    webinar = make_webinar()
    make_registration(webinar, full_name="Zoë", organisation_name="Québec")
    db.session.flush()
    found = db.session.execute(text("SELECT count(*) FROM registration WHERE search_text LIKE '%quebec%'")).scalar()
    assert found == 1


# --- the public pages -------------------------------------------------------------------------

@pytest.fixture
def programme(app):
    police = make_organisation(name="Sûreté du Québec", acronym="SQ")
    ahead = make_webinar(slug="ahead", title="Sextortion et tendances", starts_at=now() + timedelta(days=5),
                         description="Ce qui change au Québec.")
    past = make_webinar(slug="past", title="Technology and safety", starts_at=now() - timedelta(days=30),
                        description="Tools for investigators.")
    zoe = make_presenter(organisation=police, slug="zoe", name="Zoë Tremblay", title="Analyste")
    ada = make_presenter(slug="ada", name="Ada Lovelace", title="Researcher")
    make_presentation(ahead, [zoe], title="Les réseaux")
    make_presentation(past, [ada], title="Hash matching at scale")
    db.session.commit()
    return {"ahead": ahead, "past": past}


def titles_on(client, path: str) -> set[str]:
    page = client.get(path).get_data(as_text=True)
    return {t for t in ("Sextortion et tendances", "Technology and safety") if t in page}


@pytest.mark.parametrize(("q", "expected"), [
    ("", {"Sextortion et tendances", "Technology and safety"}),
    ("quebec", {"Sextortion et tendances"}),  # in the description and the presenter's organisation
    ("ZOE", {"Sextortion et tendances"}),  # a presenter's name
    ("reseaux", {"Sextortion et tendances"}),  # a talk's title
    ("hash", {"Technology and safety"}), ("lovelace technology", {"Technology and safety"}),
    ("sq", {"Sextortion et tendances"}), ("nothing-like-this", set()),
])
def test_public_webinar_search(client, programme, q, expected):
    for prefix in ("", "/fr"):
        assert titles_on(client, f"{prefix}/webinars/?q={q}") == expected, (prefix, q)


def test_public_search_says_what_it_found_and_offers_the_whole_list(client, programme):
    page = client.get("/webinars/?q=Quebec").get_data(as_text=True)
    assert "1 result for “Quebec”." in page and 'value="Quebec"' in page
    assert "No past webinar matches this search." in page
    french = client.get("/fr/webinars/?q=Quebec").get_data(as_text=True)
    assert "1\u00a0résultat pour «\u00a0Quebec\u00a0»." in french or "1 résultat pour «\u00a0Quebec\u00a0»." in french


@pytest.mark.parametrize(("q", "expected"), [
    ("zoe", {"Zoë Tremblay"}), ("Quebec", {"Zoë Tremblay"}), ("surete", {"Zoë Tremblay"}),
    ("RESEARCHER", {"Ada Lovelace"}), ("", {"Zoë Tremblay", "Ada Lovelace"}), ("zzz", set()),
])
def test_public_presenter_search(client, programme, q, expected):
    for prefix in ("", "/fr"):
        page = client.get(f"{prefix}/presenters/", query_string={"q": q}).get_data(as_text=True)
        assert {n for n in ("Zoë Tremblay", "Ada Lovelace") if n in page} == expected, (prefix, q)


def test_public_search_costs_the_same_queries_whatever_it_finds(client, programme, count_queries):
    for path in ("/webinars/", "/presenters/"):
        counts = set()
        for q in ("", "quebec", "nothing", "\x00" * 3, "é" * 500):
            with count_queries() as counter:
                assert client.get(path, query_string={"q": q}).status_code == 200
            counts.add(counter.count)
        assert counts == {2}, (path, counts)  # the page cache's version look-up, then the programme


def test_a_status_change_on_a_stale_object_does_not_write_purged_names_back(app, scene):
    """The privacy purge is a Core UPDATE; an object loaded before it still holds the name."""
    from sqlalchemy import update

    from portal.models import RegistrationStatus

    _, people = scene
    stale = people["ada"]
    db.session.execute(update(Registration).where(Registration.id == stale.id)
                       .values(full_name=None, email=None, organisation_name=None, search_text=None)
                       .execution_options(synchronize_session=False))
    stale.status = RegistrationStatus.CANCELLED
    db.session.flush()
    assert db.session.scalar(select(Registration.search_text).where(Registration.id == stale.id)) is None
