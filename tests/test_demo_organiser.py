"""`flask demo organiser` (run by `make run`): a newcomer can sign in without reading further."""

from __future__ import annotations

import re

import pytest

from portal.extensions import db
from portal.models import Organiser, Role
from portal.services.accounts import authenticate


def _password_from(output: str) -> str:
    match = re.search(r"password (\S+)", output)
    assert match, output
    return match.group(1)


@pytest.fixture(autouse=True)
def _password_file_in_tmp(app, tmp_path):
    app.config["DEMO_ORGANISER_FILE"] = str(tmp_path / "demo-organiser.txt")
    return tmp_path / "demo-organiser.txt"


def test_creates_an_admin_once_and_prints_the_same_way_in(app, runner):
    first = runner.invoke(args=["demo", "organiser"])
    assert first.exit_code == 0, first.output
    assert "http://portal.test/organiser/login" in first.output
    password = _password_from(first.output)

    again = runner.invoke(args=["demo", "organiser"])
    assert again.exit_code == 0, again.output
    assert _password_from(again.output) == password

    organisers = db.session.scalars(db.select(Organiser)).all()
    assert [(o.email, o.role) for o in organisers] == [("demo.organiser@example.org", Role.ADMIN)]
    assert authenticate("demo.organiser@example.org", password).ok


def test_sign_in_through_the_form_with_the_printed_password(app, runner, client, csrf):
    password = _password_from(runner.invoke(args=["demo", "organiser"]).output)
    response = client.post("/organiser/login", data={
        "csrf_token": csrf("/organiser/login"),
        "email": "demo.organiser@example.org",
        "password": password,
    })
    assert response.status_code == 302
    assert client.get("/organiser/").status_code == 200


def test_never_resets_a_password_whose_file_was_removed(app, runner, _password_file_in_tmp):
    password = _password_from(runner.invoke(args=["demo", "organiser"]).output)
    _password_file_in_tmp.unlink()
    result = runner.invoke(args=["demo", "organiser"])
    assert result.exit_code == 0
    assert password not in result.output
    assert "organiser create --email" in result.output
    assert not _password_file_in_tmp.exists()
    assert db.session.scalar(db.select(db.func.count()).select_from(Organiser)) == 1


def test_refused_in_production(app, runner):
    app.config["PORTAL_ENV"] = "production"
    result = runner.invoke(args=["demo", "organiser"])
    assert result.exit_code != 0
    assert "development only" in result.output
    assert db.session.scalar(db.select(db.func.count()).select_from(Organiser)) == 0
