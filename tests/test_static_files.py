"""Static files: fingerprinted names, precompressed, cached for a year (WhiteNoise + Flask-Static-Digest)."""

from __future__ import annotations

import gzip
import os
import re

import brotli
import pytest

from portal import create_app
from tests.conftest import _test_settings, close_connections

STATIC = os.path.join(os.path.dirname(os.path.dirname(__file__)), "portal", "static")


@pytest.fixture
def built_app(app, runner):
    """An app started after ``flask digest compile`` (``make install`` runs it), as in production."""
    if not os.path.exists(os.path.join(STATIC, "cache_manifest.json")):
        assert runner.invoke(args=["digest", "compile"]).exit_code == 0
    built = create_app(_test_settings(app.config["SQLALCHEMY_DATABASE_URI"], app.config["MAIL_FOLDER"]))
    yield built
    close_connections(built)


def fetch(client, url: str, **headers):
    """A static response read whole and closed (WhiteNoise streams from an open file)."""
    response = client.get(url, headers=headers)
    response.get_data()
    response.close()
    return response


def stylesheet_url(client) -> str:
    page = client.get("/privacy").get_data(as_text=True)
    found = re.search(r'href="(/static/css/portal-[0-9a-f]{32}\.css)"', page)
    assert found, "the page links the fingerprinted stylesheet"
    return found.group(1)


def test_pages_link_fingerprinted_names_served_for_a_year(built_app):
    client = built_app.test_client()
    url = stylesheet_url(client)
    response = fetch(client, url)
    assert response.status_code == 200
    assert response.headers["Cache-Control"] == "max-age=31536000, public, immutable"
    with open(os.path.join(STATIC, "css", "portal.css"), "rb") as original:
        assert response.data == original.read()


def test_brotli_or_gzip_as_the_client_accepts_precompressed(built_app):
    client = built_app.test_client()
    url = stylesheet_url(client)
    plain = fetch(client, url).data
    as_brotli = fetch(client, url, **{"Accept-Encoding": "gzip, deflate, br"})
    assert as_brotli.headers["Content-Encoding"] == "br"
    assert brotli.decompress(as_brotli.data) == plain
    assert "Accept-Encoding" in as_brotli.headers["Vary"]
    as_gzip = fetch(client, url, **{"Accept-Encoding": "gzip"})
    assert as_gzip.headers["Content-Encoding"] == "gzip"
    assert gzip.decompress(as_gzip.data) == plain
    assert len(as_gzip.data) < len(plain)
    # Precompressed at install time: the files are on disk beside the original.
    assert os.path.exists(os.path.join(STATIC, url.removeprefix("/static/") + ".br"))


def test_an_unfingerprinted_name_is_revalidated(built_app):
    client = built_app.test_client()
    response = fetch(client, "/static/css/portal.css")
    assert response.status_code == 200
    assert response.headers["Cache-Control"] == "max-age=0, public"
    again = fetch(client, "/static/css/portal.css", **{"If-None-Match": response.headers["ETag"]})
    assert again.status_code == 304


def test_a_missing_file_is_a_404(built_app):
    assert built_app.test_client().get("/static/css/nothing-here.css").status_code == 404
