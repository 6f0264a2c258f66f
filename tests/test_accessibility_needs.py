"""Accessibility needs: sorted into kinds from words in English and French, counted on the
dashboard, shown and filterable in the registrations list."""

from __future__ import annotations

import pytest

from portal.extensions import db
from portal.models import RegistrationStatus
from portal.services.accessibility_needs import count_kinds, kinds_in
from tests.factories import make_organiser, make_registration, make_webinar, sign_in


@pytest.mark.parametrize("text, kinds", [
    ("Closed captions please", ["captions"]),
    ("Sous-titres en français, s.v.p.", ["captions"]),
    ("SOUS-TITRAGE", ["captions"]),
    ("CART captioning and ASL", ["captions", "interpretation"]),
    ("Interprétation en LSQ", ["interpretation"]),
    ("langue des signes québécoise", ["interpretation"]),
    ("I use a screen reader (NVDA)", ["screen_reader"]),
    ("Lecteur d’écran JAWS", ["screen_reader"]),
    ("Large print handouts", ["visual"]),
    ("Je suis malentendante", ["hearing"]),
    ("Mr Haslam will attend; cartography is my field", []),  # "asl", "cart" only as words
    ("", []), (None, []), ("   ", []), ("Wheelchair access to the room", []),
])
def test_kinds_are_read_in_both_languages(text, kinds):
    assert kinds_in(text) == kinds


def test_counts_add_up_per_kind():
    counts = count_kinds(["captions", "ASL and captions", "nothing special", None])
    assert counts == {"captions": 2, "interpretation": 1}


@pytest.fixture
def reader(client):
    sign_in(client, make_organiser("viewer"))


def test_the_dashboard_says_how_many_ask_for_what(client, reader):
    webinar = make_webinar(title="Next one")
    for text in ["Captions please", "Sous-titres SVP", "ASL interpreter", "", None]:
        make_registration(webinar, accessibility_needs=text)
    make_registration(webinar, accessibility_needs="captions", status=RegistrationStatus.CANCELLED)
    db.session.commit()
    page = client.get("/organiser/").get_data(as_text=True)
    assert "2 ask for captions" in page  # the cancelled one is not counted
    assert "1 asks for sign language or interpretation" in page
    assert f"/organiser/webinars/{webinar.id}/registrations?need=captions" in page


def test_the_registrations_list_shows_and_filters_needs(client, reader):
    webinar = make_webinar()
    make_registration(webinar, full_name="Caption Person", accessibility_needs="Sous-titres SVP")
    make_registration(webinar, full_name="Signing Person", accessibility_needs="(ASL) interpreter")
    make_registration(webinar, full_name="Plain Person")
    db.session.commit()
    base = f"/organiser/webinars/{webinar.id}/registrations"
    everyone = client.get(base).get_data(as_text=True)
    assert "Sous-titres SVP" in everyone and '<span class="badge">captions</span>' in everyone
    captions = client.get(base + "?need=captions").get_data(as_text=True)
    assert "Caption Person" in captions and "Signing Person" not in captions and "Plain Person" not in captions
    signing = client.get(base + "?need=interpretation").get_data(as_text=True)
    assert "Signing Person" in signing and "Caption Person" not in signing
    assert "1 registrations match." in signing or "1 registration" in signing
    # An unknown kind is ignored, not an error.
    assert client.get(base + "?need=<script>").status_code == 200
