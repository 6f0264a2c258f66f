"""Regions are stored as the registration form's codes and read as words only at the edges
(dashboard bars, registrations list, CSV), in the reader's language."""

from __future__ import annotations

import csv
import io
import os
import uuid
from datetime import UTC, datetime

import pytest
import sqlalchemy as sa
from flask_migrate import upgrade

from portal import create_app
from portal.extensions import db
from portal.models import Registration
from portal.registration.forms import REGION_LABELS
from portal.services.demo import load_demo_series
from tests.factories import make_organiser, make_registration, make_webinar, sign_in


def test_the_demo_stores_the_forms_codes(app):
    load_demo_series(with_registrations=True, now=datetime(2026, 1, 1, tzinfo=UTC))
    db.session.commit()
    regions = set(db.session.scalars(sa.select(Registration.region).distinct()))
    assert regions <= set(REGION_LABELS), regions - set(REGION_LABELS)
    assert {"QC", "ON", "outside"} <= regions
    search = db.session.scalars(sa.select(Registration.search_text).limit(5)).all()
    assert all(text and text == text.casefold() for text in search)


@pytest.fixture
def signed_in(app, client):
    webinar = make_webinar()
    for region in ("QC", "QC", "ON", "outside", None):
        make_registration(webinar, region=region, full_name=f"From {region}")
    sign_in(client, make_organiser("viewer"))
    return webinar


def test_the_dashboard_counts_a_region_once_under_its_word(client, signed_in):
    page = client.get("/organiser/").get_data(as_text=True)
    assert page.count(">Quebec<") == 1 and ">QC<" not in page
    french = client.get("/fr/organiser/").get_data(as_text=True)
    assert french.count(">Québec<") == 1 and "À l’extérieur du Canada" in french


def _csv(response) -> list[dict]:
    return list(csv.DictReader(io.StringIO(response.get_data(as_text=True).lstrip("\ufeff"))))


def test_the_csv_carries_the_code_and_the_word_in_the_exporters_language(client, signed_in):
    path = f"/organiser/webinars/{signed_in.id}/registrations.csv"
    rows = {r["full_name"]: r for r in _csv(client.get(path))}
    assert (rows["From QC"]["region"], rows["From QC"]["region_name"]) == ("QC", "Quebec")
    assert (rows["From outside"]["region"], rows["From outside"]["region_name"]) == ("outside", "Outside Canada")
    assert (rows["From None"]["region"], rows["From None"]["region_name"]) == ("", "")
    french = {r["full_name"]: r for r in _csv(client.get("/fr" + path))}
    assert (french["From QC"]["region"], french["From QC"]["region_name"]) == ("QC", "Québec")
    assert french["From QC"]["sector_name"] == "" and french["From QC"]["sector"] == ""


def test_a_stored_value_without_a_word_is_shown_as_it_is(client, app):
    webinar = make_webinar()
    make_registration(webinar, region="Atlantis", full_name="Old Row")
    sign_in(client, make_organiser("viewer"))
    rows = _csv(client.get(f"/organiser/webinars/{webinar.id}/registrations.csv"))
    assert (rows[0]["region"], rows[0]["region_name"]) == ("Atlantis", "Atlantis")


# --- migration 0007 on a database holding rows written by older versions ----------------------

OLD_ROWS = {
    "Quebec": "QC", "québec": "QC", "QUEBEC": "QC", "qc": "QC", "Qc": "QC", "QC": "QC",
    "Colombie-Britannique": "BC", "british columbia": "BC", " Ontario ": "ON",
    "ile du prince edouard": "PE", "Île-du-Prince-Édouard": "PE", "Prince Edward Island": "PE",
    "Terre-Neuve-et-Labrador": "NL", "Territoires du Nord-Ouest": "NT", "Nouvelle-Écosse": "NS",
    "Outside Canada": "outside", "À l’extérieur du Canada": "outside", "OUTSIDE": "outside",
    "United States": "United States", "Atlantis": "Atlantis", "": "",
}


@pytest.fixture
def scratch_database(tmp_path):
    """An empty database of the same kind as the suite's (SQLite file, or a new PostgreSQL one)."""
    url = os.environ.get("TEST_DATABASE_URL")
    if not url:
        yield "sqlite:///" + str(tmp_path / "old.db")
        return
    name = "migration_" + uuid.uuid4().hex[:8]
    admin = sa.create_engine(url, isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.execute(sa.text(f'CREATE DATABASE "{name}"'))
    try:
        yield url.rsplit("/", 1)[0] + "/" + name
    finally:
        with admin.connect() as conn:
            conn.execute(sa.text(f'DROP DATABASE "{name}" WITH (FORCE)'))
        admin.dispose()


def test_migration_0007_converts_names_to_codes_and_fills_the_search_column(scratch_database, tmp_path):
    app = create_app({"TESTING": True, "SECRET_KEY": "x", "SQLALCHEMY_DATABASE_URI": scratch_database,
                      "MAIL_FOLDER": str(tmp_path / "mail"), "RATELIMIT_ENABLED": False})
    with app.app_context():
        upgrade(revision="0004_outbox_calendar_language")
        with db.engine.begin() as conn:
            conn.execute(sa.text(
                "INSERT INTO series (id, slug, title, summary, closing_remarks, timezone, published, created_at) "
                "VALUES (1, 's', 'S', '', '', 'America/Toronto', true, '2023-01-01')"))
            conn.execute(sa.text(
                "INSERT INTO webinar (id, series_id, slug, title, description, highlights, starts_at, "
                "duration_minutes, status, waitlist_enabled, schedule_version, created_at, updated_at) "
                "VALUES (1, 1, 'w', 'W', '', '', '2023-01-27 18:00:00', 90, 'published', true, 1, "
                "'2023-01-01', '2023-01-01')"))
            for n, old in enumerate(OLD_ROWS, start=1):
                conn.execute(sa.text(
                    "INSERT INTO registration (id, webinar_id, full_name, email, email_normalised, "
                    "organisation_name, region, preferred_language, consented_at, status, attended, token_hash, "
                    "created_at, updated_at) VALUES (:id, 1, :name, :email, :email, :org, :region, 'en', "
                    "'2023-01-01', 'confirmed', false, :hash, '2023-01-01', '2023-01-01')"),
                    {"id": n, "name": f"Zoë Nº{n}", "email": f"p{n}@example.org", "org": "Sûreté du Québec",
                     "region": old, "hash": f"{n:064d}"})
        upgrade()
        with db.engine.connect() as conn:
            stored = dict(conn.execute(sa.text("SELECT id, region FROM registration")).all())
            search = dict(conn.execute(sa.text("SELECT id, search_text FROM registration")).all())
        db.engine.dispose()
    for n, expected in enumerate(OLD_ROWS.values(), start=1):
        assert stored[n] == expected, (list(OLD_ROWS)[n - 1], stored[n])
    assert search[1] == "zoe no1 p1@example.org surete du quebec"
