"""The site identity: whose portal this is, set by an administrator or by settings."""

from __future__ import annotations

import io

import flask_babel
import pytest

from portal import create_app
from portal.extensions import db
from portal.models import AuditEvent, SiteIdentity
from portal.services import site_identity
from tests.conftest import csrf_token_from
from tests.factories import make_organiser, sign_in

PNG = (b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR\x00\x00\x00\x01\x00\x00\x00\x01\x08\x06\x00\x00\x00\x1f\x15"
       b"\xc4\x89\x00\x00\x00\rIDATx\x9cc\xf8\x0f\x00\x00\x01\x01\x00\x05\x18\xd8N\x00\x00\x00\x00IEND\xaeB`\x82")
SAFE_SVG = b'<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 10 10"><rect width="10" height="10" fill="#123"/></svg>'


def _form(**overrides) -> dict:
    values = {"name_en": "Example Agency", "name_fr": "Agence exemple", "logo_alt_en": "Example Agency",
              "logo_alt_fr": "Agence exemple", "accent": "#1d3557"}
    for kind in site_identity.LINK_KINDS:
        values[f"{kind}_url_en"] = values[f"{kind}_url_fr"] = ""
    values.update(overrides)
    return values


@pytest.fixture
def admin_client(client):
    sign_in(client, make_organiser("admin"))
    return client


def _post(client, **fields):
    token = csrf_token_from(client.get("/organiser/site-identity").get_data(as_text=True))
    return client.post("/organiser/site-identity", data={"csrf_token": token, **fields},
                       content_type="multipart/form-data")


def test_without_a_stored_identity_the_settings_name_the_organisation(tmp_path, _migrated):
    app = create_app({"TESTING": True, "SQLALCHEMY_DATABASE_URI": _migrated, "SECRET_KEY": "x",
                      "PORTAL_ORG_NAME_EN": "Settings Agency", "PORTAL_ORG_NAME_FR": "Agence des réglages",
                      "PORTAL_CONTACT_URL_EN": "https://example.org/contact", "MAIL_FOLDER": str(tmp_path)})
    with app.app_context():
        client = app.test_client()
        html = client.get("/").get_data(as_text=True)
        assert "Settings Agency" in html and "https://example.org/contact" in html
        assert "<title>Webinars · Settings Agency</title>" in html
        db.session.remove()
        db.engine.dispose()


def test_an_admin_sets_name_logo_colour_and_links_and_every_page_shows_them(admin_client):
    response = _post(admin_client, **_form(contact_url_en="https://example.org/contact",
                                           terms_url_fr="https://example.org/fr/avis"),
                     logo=(io.BytesIO(SAFE_SVG), "logo.svg"))
    assert response.status_code == 302, response.get_data(as_text=True)
    html = admin_client.get("/").get_data(as_text=True)
    assert '<span class="signature-name">Example Agency</span>' in html
    assert 'alt="Example Agency" class="signature-logo"' in html
    assert 'href="https://example.org/contact">Contact us</a>' in html
    assert 'href="https://example.org/fr/avis">Terms and conditions</a>' in html  # English falls back to French
    css = admin_client.get("/site/identity.css")
    assert "--portal-accent: #1d3557" in css.get_data(as_text=True)
    logo = admin_client.get("/site/logo")
    assert logo.mimetype == "image/svg+xml" and logo.data == SAFE_SVG
    assert "sandbox" in logo.headers["Content-Security-Policy"]
    event = db.session.scalar(db.select(AuditEvent).where(AuditEvent.target_type == "site_identity"))
    assert event.changes["name_en"] == ["", "Example Agency"] and len(event.changes["logo"][1]) == 12


def test_the_french_pages_show_the_french_name(admin_client):
    _post(admin_client, **_form())
    flask_babel.refresh()
    html = admin_client.get("/fr/").get_data(as_text=True)
    assert '<span class="signature-name">Agence exemple</span>' in html


@pytest.mark.parametrize("svg, reason", [
    (b'<svg xmlns="http://www.w3.org/2000/svg"><script>alert(1)</script></svg>', "script"),
    (b'<svg xmlns="http://www.w3.org/2000/svg" onload="alert(1)"></svg>', "onload"),
    (b'<svg xmlns="http://www.w3.org/2000/svg" xmlns:x="http://www.w3.org/1999/xlink">'
     b'<a x:href="javascript:alert(1)"><rect/></a></svg>', "another file"),
    (b'<svg xmlns="http://www.w3.org/2000/svg"><foreignObject><p>hi</p></foreignObject></svg>', "foreignobject"),
    (b'<!DOCTYPE svg [<!ENTITY a "aaaa">]><svg xmlns="http://www.w3.org/2000/svg">&a;</svg>', "PNG or an SVG"),
    (b"GIF89a not a logo", "PNG or an SVG"),
    (b"", "empty"),
])
def test_unsafe_or_foreign_logos_are_refused_with_the_reason(admin_client, svg, reason):
    response = _post(admin_client, **_form(), logo=(io.BytesIO(svg), "logo.svg"))
    assert response.status_code == 422
    assert reason in response.get_data(as_text=True)
    assert db.session.get(SiteIdentity, 1) is None


def test_a_png_logo_is_accepted_and_can_be_removed(admin_client):
    assert _post(admin_client, **_form(), logo=(io.BytesIO(PNG), "logo.png")).status_code == 302
    assert admin_client.get("/site/logo").mimetype == "image/png"
    assert _post(admin_client, **_form(), remove_logo="y").status_code == 302
    assert admin_client.get("/site/logo").status_code == 404
    assert "signature-logo" not in admin_client.get("/").get_data(as_text=True)


@pytest.mark.parametrize("colour, message", [
    ("#ffff00", "contrast of 1.1:1"), ("#777777", "contrast of 4.5:1") , ("blue", "six hexadecimal"),
    ("#12345", "six hexadecimal"), ("#1234567", "six hexadecimal"),
])
def test_a_colour_too_light_for_white_text_or_not_hex_is_refused(admin_client, colour, message):
    response = _post(admin_client, **_form(accent=colour))
    assert response.status_code == 422
    assert message in response.get_data(as_text=True)


def test_contrast_is_computed_as_wcag_says():
    assert round(site_identity.contrast_with_white("#000000"), 1) == 21.0
    assert round(site_identity.contrast_with_white("#26374a"), 1) == 12.2
    assert site_identity.accent_problem("#767676") is None  # 4.54:1, the lightest grey that passes


@pytest.mark.parametrize("url", ["javascript:alert(1)", "/relative", "ftp://example.org/x", "https://"])
def test_footer_links_must_be_web_addresses(admin_client, url):
    response = _post(admin_client, **_form(privacy_url_en=url))
    assert response.status_code == 422
    assert "https://" in response.get_data(as_text=True)


def test_empty_names_are_refused(admin_client):
    response = _post(admin_client, **_form(name_en="", name_fr=""))
    assert response.status_code == 422


@pytest.mark.parametrize("role", ["organiser", "viewer"])
def test_only_admins_see_the_page(client, role):
    sign_in(client, make_organiser(role))
    assert client.get("/organiser/site-identity").status_code == 403


def test_the_demo_wears_the_hosts_name_only(runner, client):
    assert runner.invoke(args=["demo", "load"]).exit_code == 0
    html = client.get("/").get_data(as_text=True)
    assert '<span class="signature-name">Public Safety Canada</span>' in html
    assert "signature-logo" not in html
    row = db.session.get(SiteIdentity, 1)
    assert (row.name_fr, row.logo) == ("Sécurité publique Canada", None)


def test_the_form_shows_what_another_worker_just_saved_not_its_own_older_copy(admin_client, another_app):
    """Two workers: one saves; the other's edit form must not carry its cached copy back."""
    admin = make_organiser("admin", email="second-admin@example.org")
    db.session.commit()
    worker = another_app().test_client()
    sign_in(worker, admin)
    assert 'value="Example Agency"' not in worker.get("/organiser/site-identity").get_data(as_text=True)
    assert _post(admin_client, **_form()).status_code == 302  # the first worker saves
    assert 'value="Example Agency"' in worker.get("/organiser/site-identity").get_data(as_text=True)
