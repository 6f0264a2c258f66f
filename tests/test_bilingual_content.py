"""Organiser-written text in English and French: storage, pages, emails, calendar, API,
editing, publishing, organiser messages and the translator's CSV (issue 10).

Every scene holds texts written in both languages, in English only and in French only,
so each page shows (a) the reader's language when it exists and (b) the other one marked
with its ``lang`` and a note when it does not.
"""

from __future__ import annotations

import re
from datetime import timedelta

import flask_babel
import pytest
import sqlalchemy as sa
from flask_babel import force_locale
from flask_migrate import downgrade, upgrade

from portal import create_app
from portal.extensions import db
from portal.models import (
    KeyTheme,
    Objective,
    Organisation,
    OutboxMessage,
    Presenter,
    PresenterRole,
    Series,
    ThemePoint,
    Webinar,
    WebinarMessage,
    WebinarStatus,
)
from portal.services import translations
from portal.services.calendar import webinar_calendar
from portal.services.outbox import render_message
from portal.services.programme_editing import email_context
from tests.conftest import csrf_token_from, page_in
from tests.factories import (
    make_organiser,
    make_presentation,
    make_presenter,
    make_registration,
    make_series,
    make_webinar,
    now,
    sign_in,
)

NOTE = {"fr": "(en anglais seulement)", "en": "(in French only)"}
OTHER = {"fr": "en", "en": "fr"}


def marked(text: str, reader: str) -> str:
    """How an inline text in the other language than the page reads in the HTML."""
    return f'<span lang="{OTHER[reader]}">{text}</span> <span class="lang-note">{NOTE[reader]}</span>'


def marked_block(page: str, text: str, reader: str) -> bool:
    pattern = (rf'<div lang="{OTHER[reader]}">\s*<p>{re.escape(text)}</p>\s*</div>\s*'
               rf'<p><span class="lang-note">{re.escape(NOTE[reader])}</span></p>')
    return re.search(pattern, page) is not None


@pytest.fixture
def scene(app):
    """Texts in both languages, English only, and French only."""
    rcmp = Organisation(name_en="Royal Canadian Mounted Police", name_fr="Gendarmerie royale du Canada")
    tps = Organisation(name_en="Toronto Police Service")
    db.session.add_all([rcmp, tps])
    series = make_series(title_en="Online Safety", title_fr="Sécurité en ligne", summary_en="English summary.",
                         closing_remarks_en="", closing_remarks_fr="Mot de la fin.", host=rcmp)
    series.objectives.append(Objective(text_en="Share research", position=0))
    theme = KeyTheme(heading_en="Prevention", heading_fr="Prévention", position=0)
    theme.points.append(ThemePoint(text_en="Talk to children early", position=0))
    series.key_themes.append(theme)
    both = make_webinar(series, slug="both", title_en="Sextortion trends", title_fr="Tendances de la sextorsion",
                        description_en="About sextortion.", highlights_fr="Faits saillants.")
    english = make_webinar(series, slug="english-only", title_en="Only in English",
                           starts_at=now() + timedelta(days=20))
    analyst = make_presenter(rcmp, title=None, slug="analyst", name="Jane Roe", bio_en="Jane studies trends.")
    analyst.roles[0].title_en, analyst.roles[0].title_fr = "Research Analyst", "Analyste de recherche"
    detective = make_presenter(tps, title="Detective Sergeant", slug="detective", name="John Doe",
                               honorific_en="Detective")
    make_presentation(both, [analyst, detective], title_en="Financial sextortion",
                      abstract_en="Money.", abstract_fr="Argent.")
    db.session.commit()
    return {"series": series, "both": both, "english": english, "analyst": analyst, "detective": detective}


# ---------------------------------------------------------------- storage

def test_attribute_reads_the_reader_language_and_falls_back(app, scene):
    webinar = scene["both"]
    assert webinar.title == "Sextortion trends"  # no request: English
    with force_locale("fr"):
        assert webinar.title == "Tendances de la sextorsion"
        assert webinar.description == "About sextortion."  # no French: the English
    assert webinar.highlights == "Faits saillants."  # no English: the French
    webinar.title = "Changed"  # writing the old attribute writes the English
    assert (webinar.title_en, webinar.title_fr) == ("Changed", "Tendances de la sextorsion")
    # In SQL the old attribute is the English column, whatever the language.
    with force_locale("fr"):
        assert db.session.scalar(db.select(Webinar.slug).where(Webinar.title == "Changed")) == "both"


def _rows_at_0004(conn) -> None:
    conn.execute(sa.text("INSERT INTO organisation (id, name, acronym) VALUES (1, 'Royal Canadian Mounted Police', 'RCMP')"))
    conn.execute(sa.text(
        "INSERT INTO series (id, slug, title, subtitle, host_organisation_id, summary, closing_remarks, timezone,"
        " published, created_at) VALUES (1, 's', 'Séries: «quoted»', 'Sub', 1, 'Sum\n\nmary', 'Bye', 'UTC', true,"
        " '2024-01-01 00:00:00')"))
    conn.execute(sa.text("INSERT INTO objective (id, series_id, position, text) VALUES (1, 1, 0, 'Obj')"))
    conn.execute(sa.text("INSERT INTO key_theme (id, series_id, position, heading) VALUES (1, 1, 0, 'Theme')"))
    conn.execute(sa.text("INSERT INTO theme_point (id, theme_id, position, text) VALUES (1, 1, 0, 'Point')"))
    conn.execute(sa.text(
        "INSERT INTO webinar (id, series_id, slug, title, starts_at, duration_minutes, description, waitlist_enabled,"
        " highlights, status, cancellation_message, schedule_version, created_at, updated_at) VALUES (1, 1, 'w',"
        " 'Webinar — ünïcode', '2024-02-01 18:00:00', 90, 'Desc', true, 'High', 'cancelled', 'Sorry', 1,"
        " '2024-01-01 00:00:00', '2024-01-01 00:00:00')"))
    conn.execute(sa.text("INSERT INTO presentation (id, webinar_id, position, title, abstract) VALUES (1, 1, 0, 'Talk', 'Abs')"))
    conn.execute(sa.text("INSERT INTO presenter (id, slug, name, honorific, is_team, bio) VALUES (1, 'p', 'Ann', 'Dr.', false, 'Bio')"))
    conn.execute(sa.text("INSERT INTO presenter_role (id, presenter_id, position, title, unit, organisation_id)"
                         " VALUES (1, 1, 0, 'Analyst', 'Unit', 1)"))
    conn.execute(sa.text("INSERT INTO webinar_message (id, webinar_id, audience, subject, body, recipient_count,"
                         " created_at) VALUES (1, 1, 'all', 'Subj', 'Body', 0, '2024-01-01 00:00:00')"))


EXPECTED_ENGLISH = {
    "organisation": {"name": "Royal Canadian Mounted Police", "acronym": "RCMP"},
    "series": {"title": "Séries: «quoted»", "subtitle": "Sub", "summary": "Sum\n\nmary", "closing_remarks": "Bye"},
    "objective": {"text": "Obj"},
    "key_theme": {"heading": "Theme"},
    "theme_point": {"text": "Point"},
    "webinar": {"title": "Webinar — ünïcode", "description": "Desc", "highlights": "High",
                "cancellation_message": "Sorry"},
    "presentation": {"title": "Talk", "abstract": "Abs"},
    "presenter": {"honorific": "Dr.", "bio": "Bio"},
    "presenter_role": {"title": "Analyst", "unit": "Unit"},
    "webinar_message": {"subject": "Subj", "body": "Body"},
}


def test_migration_keeps_the_english_and_leaves_the_french_empty(app, database_url, tmp_path):
    """Rows written at revision 0004 read the same after 0006; every French column is NULL."""
    if database_url.startswith("postgresql"):
        schema = "migration_0006_check"
        with db.engine.begin() as conn:
            conn.execute(sa.text(f"DROP SCHEMA IF EXISTS {schema} CASCADE"))
            conn.execute(sa.text(f"CREATE SCHEMA {schema}"))
        settings = {"SQLALCHEMY_DATABASE_URI": database_url,
                    "SQLALCHEMY_ENGINE_OPTIONS": {"connect_args": {"options": f"-csearch_path={schema}"}}}
    else:
        settings = {"SQLALCHEMY_DATABASE_URI": "sqlite:///" + str(tmp_path / "at-0004.db")}
    scratch = create_app({**app.config, **settings})
    try:
        with scratch.app_context():
            upgrade(revision="0004_outbox_calendar_language")
            with db.engine.begin() as conn:
                _rows_at_0004(conn)
            upgrade(revision="0006_bilingual_content")
            with db.engine.connect() as conn:
                for table, columns in EXPECTED_ENGLISH.items():
                    row = conn.execute(sa.text(f"SELECT * FROM {table}")).mappings().one()
                    for column, english in columns.items():
                        assert row[column] == english, (table, column)
                        assert row[f"{column}_fr"] is None, (table, column)
            upgrade()  # the models describe the newest schema
            with force_locale("fr"):
                webinar = db.session.get(Webinar, 1)
                assert webinar.title == "Webinar — ünïcode" and webinar.title_fr is None
            db.session.remove()
            downgrade(revision="0004_outbox_calendar_language")
            with db.engine.connect() as conn:
                assert conn.execute(sa.text("SELECT title FROM webinar")).scalar() == "Webinar — ünïcode"
            db.engine.dispose()
    finally:
        if database_url.startswith("postgresql"):
            with db.engine.begin() as conn:
                conn.execute(sa.text("DROP SCHEMA IF EXISTS migration_0006_check CASCADE"))


# ---------------------------------------------------------------- public pages

PAGES = {
    "home": "/",
    "webinars": "/webinars/",
    "webinar": "/webinars/both",
    "series": "/series/{series}",
    "report": "/series/{series}/report",
    "presenters": "/presenters/",
    "presenter": "/presenters/analyst",
    "register": "/register/both",
    "sent": "/register/both/sent",
}


@pytest.mark.parametrize("page_name", list(PAGES))
def test_each_public_page_speaks_the_reader_language_and_marks_the_other(client, scene, page_name):
    path = PAGES[page_name].format(series=scene["series"].slug)
    french = page_in(client, "fr", path)
    english = page_in(client, "en", path)
    expectations = {
        "home": (["Sécurité en ligne", "Tendances de la sextorsion", marked("Only in English", "fr")],
                 ["Online Safety", "Sextortion trends"]),
        "webinars": (["Tendances de la sextorsion", marked("Only in English", "fr"),
                      marked("Financial sextortion", "fr")], ["Sextortion trends", "Only in English"]),
        "webinar": (["Tendances de la sextorsion", "Sécurité en ligne", marked("Financial sextortion", "fr"),
                     "Argent.", "Analyste de recherche", "Gendarmerie royale du Canada",
                     marked("Detective Sergeant", "fr"), marked("Toronto Police Service", "fr"),
                     '<span lang="en">Detective</span> John Doe'],
                    ["Sextortion trends", "Money.", "Research Analyst", "Royal Canadian Mounted Police",
                     "Detective John Doe"]),
        "series": (["Sécurité en ligne", marked("Share research", "fr"), "Prévention",
                    marked("Talk to children early", "fr"), "Gendarmerie royale du Canada"],
                   ["Online Safety", "Share research", "Prevention", "Talk to children early"]),
        "report": (["Sécurité en ligne", "Mot de la fin."], ["Online Safety"]),
        "presenters": (["Analyste de recherche, Gendarmerie royale du Canada",
                        marked("Detective Sergeant", "fr")], ["Research Analyst, Royal Canadian Mounted Police"]),
        "presenter": (["Analyste de recherche", "Tendances de la sextorsion", marked("Financial sextortion", "fr")],
                      ["Research Analyst", "Sextortion trends", "Financial sextortion"]),
        "register": (["Tendances de la sextorsion"], ["Sextortion trends"]),
        "sent": (["Tendances de la sextorsion"], ["Sextortion trends"]),
    }[page_name]
    for expected in expectations[0]:
        assert expected in french, (page_name, expected)
    for expected in expectations[1]:
        assert expected in english, (page_name, expected)
    # The marking is markup, never escaped text (a title inside a translated sentence included).
    assert "&lt;span" not in french and "&lt;span" not in english
    # Nothing in the reader's own language is marked as foreign.
    assert NOTE["en"] not in english or page_name in ("webinar", "report", "home", "series")
    assert "Sextortion trends" not in french and "Tendances de la sextorsion" not in english


def test_paragraphs_in_the_other_language_carry_lang_and_a_note(client, scene):
    french = page_in(client, "fr", "/webinars/both")
    assert marked_block(french, "About sextortion.", "fr")
    english = page_in(client, "en", "/webinars/both")
    assert marked_block(english, "Faits saillants.", "en")
    assert "About sextortion." in english and 'lang="en"' not in english.split("<main", 1)[-1]
    report = page_in(client, "en", f"/series/{scene['series'].slug}/report")
    assert marked_block(report, "Mot de la fin.", "en")
    assert marked_block(page_in(client, "fr", "/presenters/analyst"), "Jane studies trends.", "fr")
    assert marked_block(page_in(client, "fr", "/"), "English summary.", "fr")


def test_registration_pages_mark_an_english_only_title(client, scene):
    registration, token = make_registration(scene["english"], preferred_language="fr")
    for path in ("/register/english-only", "/register/english-only/sent", f"/registration/{token}",
                 f"/registration/{token}/cancel"):
        assert marked("Only in English", "fr") in page_in(client, "fr", path), path
        assert "Only in English" in page_in(client, "en", path), path
    _, token = make_registration(scene["both"], preferred_language="fr")
    for path in (f"/registration/{token}", f"/registration/{token}/cancel"):
        assert "Tendances de la sextorsion" in page_in(client, "fr", path)
        assert "Sextortion trends" in page_in(client, "en", path)


def test_feedback_form_names_the_talks_in_the_reader_language(client, scene):
    webinar = scene["both"]
    webinar.starts_at = now() - timedelta(days=1)
    _, token = make_registration(webinar, preferred_language="fr")
    french = page_in(client, "fr", f"/feedback/{token}")
    assert "Tendances de la sextorsion" in french and marked("Financial sextortion", "fr") in french
    english = page_in(client, "en", f"/feedback/{token}")
    assert "Sextortion trends" in english and "Financial sextortion —" in english


# ---------------------------------------------------------------- emails, calendar, API

EMAIL_KINDS = ["confirmation", "waitlisted", "promoted", "cancelled", "link_resent", "reminder",
               "feedback_invitation", "webinar_changed", "webinar_cancelled", "organiser_message"]


@pytest.mark.parametrize("kind", EMAIL_KINDS)
def test_every_email_kind_in_each_language(app, scene, kind):
    for webinar, language, expected, fallback in (
        (scene["both"], "fr", "Tendances de la sextorsion", False),
        (scene["both"], "en", "Sextortion trends", False),
        (scene["english"], "fr", "Only in English", True),
    ):
        registration, _token = make_registration(webinar, preferred_language=language)
        webinar.cancellation_message_en = "We are sorry."
        context = email_context(webinar, registration, feedback_url="http://portal.test/feedback/x",
                                closes_at=webinar.starts_at + timedelta(days=14),
                                body="Hello", body_version=None, message_version=None)
        message = render_message(kind, context, language, "subject")
        assert expected in message.text, (kind, language)
        if fallback:
            assert f"Only in English {NOTE['fr']}" in message.text, kind
            assert marked("Only in English", "fr") in message.html, kind
        else:
            assert NOTE[language] not in message.text or kind == "webinar_cancelled", kind


def test_cancellation_message_in_each_registrant_language(app, client, scene):
    editor = make_organiser("organiser")
    sign_in(client, editor)
    make_registration(scene["both"], preferred_language="fr", email="fr@example.org")
    make_registration(scene["both"], preferred_language="en", email="en@example.org")
    db.session.commit()
    token = csrf_token_from(client.get(f"/organiser/webinars/{scene['both'].id}/cancel").get_data(as_text=True))
    response = client.post(f"/organiser/webinars/{scene['both'].id}/cancel",
                           data={"csrf_token": token, "message": "Sorry, it is off.", "message_fr": ""})
    assert response.status_code == 302
    sent = {m.recipient: m for m in db.session.scalars(
        db.select(OutboxMessage).where(OutboxMessage.kind == "webinar_cancelled"))}
    assert "Sorry, it is off." in sent["en@example.org"].body_text
    assert NOTE["fr"] not in sent["en@example.org"].body_text
    assert f"Sorry, it is off.\n{NOTE['fr']}" in sent["fr@example.org"].body_text
    assert '<div lang="en"><p>Sorry, it is off.</p></div>' in sent["fr@example.org"].body_html
    assert sent["fr@example.org"].subject == "Annulé : Tendances de la sextorsion" or \
        "Tendances de la sextorsion" in sent["fr@example.org"].subject


def test_calendar_file_in_the_registrant_language(app, scene):
    with force_locale("fr"):
        french = webinar_calendar(scene["both"]).decode()
        fallback = webinar_calendar(scene["english"]).decode()
    english = webinar_calendar(scene["both"]).decode()
    assert "SUMMARY:Tendances de la sextorsion" in french
    assert "1. Financial sextortion (en anglais seulement)" in french.replace("\r\n ", "")
    assert "SUMMARY:Sextortion trends" in english and "seulement" not in english
    assert "SUMMARY;LANGUAGE=en:Only in English (en anglais seulement)" in fallback.replace("\r\n ", "")


def test_api_gives_the_reader_language_and_both_versions(client, scene):
    french = client.get("/api/v1/webinars/both", headers={"Accept-Language": "fr"}).get_json()
    assert french["title"] == "Tendances de la sextorsion"
    vary = client.get("/api/v1/webinars/both").headers["Vary"]
    assert "Accept-Language" in vary and "Cookie" in vary
    flask_babel.refresh()
    assert french["title_i18n"] == {"en": "Sextortion trends", "fr": "Tendances de la sextorsion"}
    assert french["description"] == "About sextortion."
    assert french["description_i18n"] == {"en": "About sextortion.", "fr": None}
    talk = french["presentations"][0]
    assert talk["title"] == "Financial sextortion" and talk["title_i18n"]["fr"] is None
    role = talk["presenters"][0]["roles"][0]
    assert role["title"] == "Analyste de recherche"
    assert role["organisation"]["name_i18n"] == {"en": "Royal Canadian Mounted Police",
                                                 "fr": "Gendarmerie royale du Canada"}
    flask_babel.refresh()  # the test client shares the app context, where the locale is cached
    english = client.get("/api/v1/webinars/both", headers={"Accept-Language": "en"}).get_json()
    assert english["title"] == "Sextortion trends" and english["highlights"] == "Faits saillants."
    flask_babel.refresh()
    presenters = client.get("/api/v1/presenters", headers={"Accept-Language": "fr"}).get_json()["presenters"]
    analyst = next(p for p in presenters if p["slug"] == "analyst")
    assert analyst["bio_i18n"] == {"en": "Jane studies trends.", "fr": None}
    assert analyst["presentations"][0]["webinar"]["title_i18n"]["fr"] == "Tendances de la sextorsion"


# ---------------------------------------------------------------- editing and publishing

@pytest.fixture
def editor(app, client):
    organiser = make_organiser("organiser")
    sign_in(client, organiser)
    return organiser


def post(client, path, **data):
    db.session.commit()
    token = csrf_token_from(client.get("/organiser/").get_data(as_text=True))
    return client.post(path, data={"csrf_token": token, **data})


def fresh(model, object_id):
    db.session.expire_all()
    return db.session.get(model, object_id)


def test_forms_show_both_languages_side_by_side(client, scene, editor):
    page = client.get(f"/organiser/webinars/{scene['both'].id}/edit").get_data(as_text=True)
    pair = page.split('<div class="language-pair">', 1)[1].split('name="slug"', 1)[0]
    assert 'name="title"' in pair and 'name="title_fr"' in pair
    assert 'value="Sextortion trends"' in page and 'value="Tendances de la sextorsion"' in page
    assert 'lang="fr"' in page and 'lang="en"' in page
    # The French organiser still gets the English in the English field.
    french = page_in(client, "fr", f"/organiser/webinars/{scene['both'].id}/edit")
    assert re.search(r'name="title"[^>]*value="Sextortion trends"', french)
    for path in (f"/organiser/series/{scene['series'].id}", f"/organiser/presenters/{scene['analyst'].id}",
                 f"/organiser/themes/{scene['series'].key_themes[0].id}", "/organiser/organisations/new",
                 f"/organiser/webinars/{scene['both'].id}/message"):
        assert 'class="language-pair"' in client.get(path, follow_redirects=True).get_data(as_text=True), path


def test_saving_with_one_language_missing_is_allowed_but_not_with_none(client, scene, editor):
    series = scene["series"]
    fields = {"title": "", "title_fr": "Seulement en français", "slug": "", "timezone": "America/Toronto",
              "host_organisation_id": "0", "objectives": "One\nTwo", "objectives_fr": "Un\n\nDeux"}
    assert post(client, "/organiser/series/new", **fields).status_code == 302
    created = db.session.scalar(db.select(Series).where(Series.title_fr == "Seulement en français"))
    assert created.title_en == "" and created.slug == "seulement-en-francais"
    assert [(o.text_en, o.text_fr) for o in created.objectives] == [("One", "Un"), ("Two", "Deux")]
    response = post(client, "/organiser/series/new", **{**fields, "title_fr": " "})
    assert response.status_code == 422 and "Write it in English or in French" in response.get_data(as_text=True)
    response = post(client, f"/organiser/series/{series.id}", title="Online Safety", title_fr="x" * 301,
                    slug=series.slug, timezone="America/Toronto", host_organisation_id="0")
    assert response.status_code == 422 and "longer than 300" in response.get_data(as_text=True)


def test_presenter_roles_and_organisations_keep_both_languages(client, scene, editor):
    analyst = scene["analyst"]
    organisation_id = analyst.roles[0].organisation_id
    response = post(client, f"/organiser/presenters/{analyst.id}", name="Jane Roe", slug="analyst",
                    honorific="Dr.", honorific_fr="Dre", bio="Bio.", bio_fr="Biographie.",
                    role1_title="Analyst", role1_title_fr="Analyste", role1_unit="", role1_unit_fr="Unité",
                    role1_organisation_id=str(organisation_id), role2_organisation_id="0",
                    role3_organisation_id="0")
    assert response.status_code == 302
    person = fresh(Presenter, analyst.id)
    assert (person.honorific_fr, person.bio_fr) == ("Dre", "Biographie.")
    role = person.roles[0]
    assert (role.title_en, role.title_fr, role.unit_en, role.unit_fr) == ("Analyst", "Analyste", None, "Unité")
    response = post(client, "/organiser/organisations/new", name="Canadian Centre for Child Protection",
                    name_fr="Centre canadien de protection de l’enfance", acronym="C3P", acronym_fr="CCPE")
    assert response.status_code == 302
    found = db.session.scalar(db.select(Organisation).where(Organisation.name_en.like("Canadian Centre%")))
    assert (found.name_fr, found.acronym_fr) == ("Centre canadien de protection de l’enfance", "CCPE")
    assert post(client, "/organiser/organisations/new", name="", name_fr="Seulement").status_code == 422


def test_programme_page_lists_what_lacks_a_language(client, scene, editor):
    page = client.get("/organiser/programme").get_data(as_text=True)
    assert "Series — summary: no French version" in page
    assert "Series — closing remarks: no English version" in page
    assert "Webinar — title: no French version" in page  # the English-only webinar
    assert "Presentation 1 — title: no French version" in page
    assert "Presenter — biography: no French version" in page
    assert "Organisation — name: no French version" in page  # Toronto Police Service
    french = page_in(client, "fr", "/organiser/programme")
    assert "Série — résumé\u00a0: aucune version française" in french


def test_publishing_asks_while_a_text_lacks_a_language(client, scene, editor):
    webinar = scene["english"]
    webinar.status = WebinarStatus.DRAFT
    response = post(client, f"/organiser/webinars/{webinar.id}/publish")
    page = response.get_data(as_text=True)
    assert response.status_code == 200 and "Publish anyway" in page
    assert "Webinar — title: no French version" in page
    assert fresh(Webinar, webinar.id).status == WebinarStatus.DRAFT
    assert post(client, f"/organiser/webinars/{webinar.id}/publish", confirm_missing="yes").status_code == 302
    assert fresh(Webinar, webinar.id).status == WebinarStatus.PUBLISHED
    # Complete in both languages: no question asked.
    series = make_series(published=False, title_en="Both", title_fr="Les deux", summary_en="", summary_fr=None)
    assert post(client, f"/organiser/series/{series.id}/publish").status_code == 302
    assert fresh(Series, series.id).published


def test_require_both_languages_refuses_with_the_reason(app, client, scene, editor):
    app.config["REQUIRE_BOTH_LANGUAGES"] = True
    series = scene["series"]
    series.published = False
    response = post(client, f"/organiser/series/{series.id}/publish", confirm_missing="yes")
    page = response.get_data(as_text=True)
    assert response.status_code == 409 and "REQUIRE_BOTH_LANGUAGES" in page and "Publish anyway" not in page
    assert "Objective 1 — text: no French version" in page
    assert not fresh(Series, series.id).published


def test_require_both_languages_setting_is_read_from_the_environment(tmp_path):
    from config import settings_for

    assert settings_for({}, str(tmp_path))["REQUIRE_BOTH_LANGUAGES"] is False
    assert settings_for({"REQUIRE_BOTH_LANGUAGES": "true"}, str(tmp_path))["REQUIRE_BOTH_LANGUAGES"] is True


# ---------------------------------------------------------------- organiser's email to registrants

def test_each_registrant_gets_the_message_in_their_language(client, scene, editor):
    webinar = scene["both"]
    make_registration(webinar, preferred_language="fr", email="fr@example.org")
    make_registration(webinar, preferred_language="en", email="en@example.org")
    path = f"/organiser/webinars/{webinar.id}/message"
    fields = {"audience": "all", "subject": "Slides online", "body": "Here they are.",
              "subject_fr": "Diapositives en ligne", "body_fr": "Les voici."}
    preview = post(client, path, **fields).get_data(as_text=True)
    assert '<div lang="fr">' in preview and "Les voici." in preview and "Here they are." in preview
    assert post(client, path, **fields, confirmed="yes").status_code == 302
    sent = {m.recipient: m for m in db.session.scalars(db.select(OutboxMessage))}
    assert sent["fr@example.org"].subject == "Diapositives en ligne"
    assert "Les voici." in sent["fr@example.org"].body_text and "Here they are." not in sent["fr@example.org"].body_text
    assert sent["en@example.org"].subject == "Slides online" and "Here they are." in sent["en@example.org"].body_text
    record = db.session.scalar(db.select(WebinarMessage))
    assert (record.subject_en, record.subject_fr, record.body_fr) == ("Slides online", "Diapositives en ligne",
                                                                     "Les voici.")


def test_a_message_in_one_language_reaches_everyone_marked(client, scene, editor):
    webinar = scene["both"]
    make_registration(webinar, preferred_language="en", email="en@example.org")
    path = f"/organiser/webinars/{webinar.id}/message"
    fields = {"audience": "all", "subject": "", "body": "", "subject_fr": "Rappel", "body_fr": "À bientôt."}
    assert post(client, path, **fields, confirmed="yes").status_code == 302
    message = db.session.scalar(db.select(OutboxMessage))
    assert message.subject == "Rappel"
    assert f"À bientôt.\n\n{NOTE['en']}" in message.body_text
    assert '<div lang="fr"><p>À bientôt.</p></div>' in message.body_html


@pytest.mark.parametrize("fields", [
    {"subject": "", "body": "", "subject_fr": "", "body_fr": ""},
    {"subject": "Only a subject", "body": "", "subject_fr": "", "body_fr": ""},
    {"subject": "", "body": "", "subject_fr": "", "body_fr": "Corps sans objet"},
    {"subject": "s" * 201, "body": "x", "subject_fr": "", "body_fr": ""},
])
def test_message_bad_input_in_either_language(client, scene, editor, fields):
    response = post(client, f"/organiser/webinars/{scene['both'].id}/message", audience="all", **fields,
                    confirmed="yes")
    assert response.status_code == 422
    assert db.session.scalar(db.select(db.func.count()).select_from(WebinarMessage)) == 0


# ---------------------------------------------------------------- translator's file

def _export(series_slug: str) -> bytes:
    db.session.expire_all()
    return translations.export_csv(translations.load_series(series_slug))


def test_export_import_round_trips_exactly(app, scene):
    slug = scene["series"].slug
    first = _export(slug)
    assert first.startswith(b"\xef\xbb\xbfkey,context,en,fr\r\n")
    text = first.decode("utf-8-sig")
    assert f"webinar.{scene['both'].id}.title," in text and "Tendances de la sextorsion" in text
    assert f"organisation.{scene['analyst'].roles[0].organisation_id}.name," in text
    summary = translations.import_csv(first, translations.load_series(slug))
    assert summary.changed == 0 and summary.rows == text.count("\r\n") - 1
    db.session.commit()
    assert _export(slug) == first


def test_imported_french_is_stored(app, scene):
    slug = scene["series"].slug
    rows = _export(slug).decode("utf-8-sig")
    key = f"webinar.{scene['english'].id}.title"
    edited = rows.replace(f"{key},Webinar: Only in English — title,Only in English,",
                          f"{key},Webinar: Only in English — title,Only in English,Seulement en anglais")
    assert edited != rows
    summary = translations.import_csv(edited.encode("utf-8"), translations.load_series(slug))
    db.session.commit()
    assert summary.changed == 1 and summary.changed_keys == [key]
    assert fresh(Webinar, scene["english"].id).title_fr == "Seulement en anglais"
    assert _export(slug).decode("utf-8-sig") == edited


@pytest.mark.parametrize("content, message", [
    (b"", "The file is empty."),
    (b"id,english,french\r\n", "The first line must be the columns key,context,en,fr"),
    (b"key,context,en,fr\r\nwebinar.999999.title,,x,y\r\n", "is not a text of this series"),
    (b"key,context,en,fr\r\nwebinar.1.colour,,x,y\r\n", "unknown key"),
    (b"key,context,en,fr\r\nnonsense,,x,y\r\n", "unknown key"),
    (b"key,context,en,fr\r\nwebinar.1.title,,x\r\n", "3 columns instead of 4"),
    ("key,context,en,fr\r\nwebinar.1.title,,Caf\u00e9,\r\n".encode("latin-1"), "is not UTF-8"),
    (b"key,context,en,fr\r\nwebinar.1.title,,a\x00b,\r\n", "NUL characters"),
])
def test_bad_files_are_refused_whole(app, scene, content, message):
    slug = scene["series"].slug
    before = _export(slug)
    content = content.replace(b"webinar.1.", f"webinar.{scene['both'].id}.".encode())
    with pytest.raises(translations.TranslationFileError) as refused:
        translations.import_csv(content, translations.load_series(slug))
    assert message in str(refused.value)
    db.session.rollback()
    assert _export(slug) == before


def test_one_bad_row_writes_nothing(app, scene):
    slug = scene["series"].slug
    before = _export(slug)
    good = f"webinar.{scene['english'].id}.title,,Only in English,Seulement"
    other = make_series(slug="other-series")
    db.session.commit()
    rows = ["key,context,en,fr", good, f"webinar.{scene['both'].id}.title,,{'t' * 301},",
            f"series.{other.id}.title,,Stolen,", good]
    with pytest.raises(translations.TranslationFileError) as refused:
        translations.import_csv("\r\n".join(rows).encode(), translations.load_series(slug))
    problems = refused.value.problems
    assert any("Line 3: the English text is longer than 300" in p for p in problems)
    assert any("Line 4:" in p and "is not a text of this series" in p for p in problems)
    assert any("Line 5:" in p and "appears twice" in p for p in problems)
    db.session.rollback()
    assert _export(slug) == before


def test_translations_commands(app, runner, scene, tmp_path):
    slug = scene["series"].slug
    path = tmp_path / "texts.csv"
    result = runner.invoke(args=["translations", "export", "--series", slug, "--output", str(path)])
    assert result.exit_code == 0, result.output
    assert path.read_bytes() == _export(slug)
    text = path.read_bytes().decode("utf-8-sig")
    key = f"presentation.{scene['both'].presentations[0].id}.title"
    path.write_bytes(re.sub(rf"({re.escape(key)},[^\r\n]*,Financial sextortion,)", r"\1Sextorsion financière",
                            text).encode("utf-8-sig"))
    result = runner.invoke(args=["translations", "import", str(path), "--series", slug])
    assert result.exit_code == 0, result.output
    assert result.output.strip().splitlines()[-1].endswith("1 texts changed")
    db.session.expire_all()
    assert scene["both"].presentations[0].title_fr == "Sextorsion financière"
    path.write_bytes(b"key,context,en\r\n")
    result = runner.invoke(args=["translations", "import", str(path)])
    assert result.exit_code != 0 and "nothing imported" in result.output
    result = runner.invoke(args=["translations", "export", "--series", "no-such-series"])
    assert result.exit_code != 0 and "no series" in result.output


def test_organiser_downloads_and_uploads_the_file(client, scene, editor):
    import io

    series = scene["series"]
    download = client.get(f"/organiser/series/{series.id}/translations.csv")
    assert download.status_code == 200 and download.mimetype == "text/csv"
    assert download.data == _export(series.slug)
    page = client.get(f"/organiser/series/{series.id}/translations").get_data(as_text=True)
    token = csrf_token_from(page)
    edited = download.data.decode("utf-8-sig").replace("Only in English,\r\n", "Only in English,Traduit\r\n", 1)
    response = client.post(f"/organiser/series/{series.id}/translations", data={
        "csrf_token": token, "file": (io.BytesIO(edited.encode("utf-8-sig")), "texts.csv")})
    assert response.status_code == 302
    assert fresh(Webinar, scene["english"].id).title_fr == "Traduit"
    response = client.post(f"/organiser/series/{series.id}/translations", data={
        "csrf_token": token, "file": (io.BytesIO(b"nope\r\n"), "texts.csv")})
    assert response.status_code == 422 and "Nothing was imported" in response.get_data(as_text=True)
    response = client.post(f"/organiser/series/{series.id}/translations", data={"csrf_token": token})
    assert response.status_code == 422 and "Choose the CSV file" in response.get_data(as_text=True)
    assert client.get("/organiser/series/999999/translations.csv").status_code == 404


def test_viewers_cannot_touch_translations(app, client, scene):
    sign_in(client, make_organiser("viewer"))
    db.session.commit()
    series = scene["series"]
    assert client.get(f"/organiser/series/{series.id}/translations.csv").status_code == 403
    assert client.get(f"/organiser/series/{series.id}/translations").status_code == 403


# ---------------------------------------------------------------- the demo

def test_demo_is_english_only_and_french_pages_mark_it(app, client, runner):
    result = runner.invoke(args=["demo", "load"])
    assert result.exit_code == 0, result.output
    for model in (Series, Webinar, Presenter, PresenterRole, Organisation, Objective, KeyTheme, ThemePoint):
        for item in db.session.scalars(db.select(model)):
            for name in translations.fields_of(item):
                assert getattr(item, f"{name}_fr") is None, (model.__name__, name)
    french = page_in(client, "fr", "/webinars/sextortion-and-emerging-trends")
    assert marked("Sextortion and Emerging Trends", "fr") in french
    assert marked("Trends in Financial Sextortion", "fr") in french
    assert marked("Research Analyst", "fr") in french


def test_import_without_a_series_still_refuses_missing_rows(app, scene):
    with pytest.raises(translations.TranslationFileError) as refused:
        translations.import_csv(b"key,context,en,fr\r\nwebinar.999999.title,,x,y\r\n")
    assert "no longer exists" in str(refused.value)


def test_email_subject_names_the_webinar_in_the_registrant_language(client, csrf, scene):
    """Registering from the English page with French chosen for emails: the whole email is French."""
    from tests.test_registration import post_registration

    response = post_registration(client, csrf, scene["both"], preferred_language="fr", email="fr@example.org")
    assert response.status_code == 302
    message = db.session.scalar(db.select(OutboxMessage).where(OutboxMessage.recipient == "fr@example.org"))
    assert "Tendances de la sextorsion" in message.subject and "Sextortion trends" not in message.subject
    assert "Tendances de la sextorsion" in message.body_text


def test_a_presenter_page_heading_marks_a_borrowed_honorific_without_a_note_inside_the_name(client, scene):
    page = client.get("/fr/presenters/detective").get_data(as_text=True)
    heading = page[page.index("<h1>"):page.index("</h1>")]
    assert '<span lang="en">Detective</span> John Doe' in heading
    assert "lang-note" not in heading


def test_an_organisation_name_another_has_or_the_file_gives_twice_is_refused(app, scene):
    slug = scene["series"].slug
    rcmp = scene["analyst"].roles[0].organisation
    tps = scene["detective"].roles[0].organisation
    taken = f"key,context,en,fr\r\norganisation.{tps.id}.name,,royal canadian mounted police,\r\n"
    with pytest.raises(translations.TranslationFileError) as refused:
        translations.import_csv(taken.encode(), translations.load_series(slug))
    assert "Line 2: another organisation is already named" in str(refused.value)
    db.session.rollback()
    kept = f"key,context,en,fr\r\norganisation.{tps.id}.name,,TORONTO Police Service,\r\n"  # its own name
    assert translations.import_csv(kept.encode(), translations.load_series(slug)).changed == 1
    db.session.rollback()
    twice = (f"key,context,en,fr\r\norganisation.{tps.id}.name,,Same Name,\r\n"
             f"organisation.{rcmp.id}.name,,same name,\r\n")
    with pytest.raises(translations.TranslationFileError) as refused:
        translations.import_csv(twice.encode(), translations.load_series(slug))
    assert "Line 3: another organisation is already named" in str(refused.value)


def test_a_key_with_other_digits_is_an_unknown_key_not_an_error(app, scene):
    with pytest.raises(translations.TranslationFileError) as refused:
        translations.import_csv("key,context,en,fr\r\nwebinar.².title,,x,y\r\n".encode())
    assert "unknown key" in str(refused.value)
