"""Static files under fingerprinted names, compressed ahead of time, kept by browsers for a year.

``flask --app portal digest compile`` (run by ``make install``) writes a copy of every file in
``portal/static/`` under a name that carries its content hash (``portal-<md5>.css``), with
gzip and brotli versions beside it and ``cache_manifest.json`` mapping the names
(Flask-Static-Digest). ``url_for('static', filename='css/portal.css')`` then gives the
fingerprinted name, so templates need no change, and a changed file gets a new URL. WhiteNoise
serves the files in front of Flask: the brotli or gzip version when the client accepts it,
``Cache-Control: public, max-age=31536000, immutable`` for fingerprinted names, and a
revalidating ``max-age=0`` for anything else. nginx serves the same files the same way in
production (``deploy/nginx/portal.conf``).
"""

from __future__ import annotations

import re

from flask import Flask
from whitenoise import WhiteNoise

from portal.extensions import static_digest

#: ``name-<md5>.ext``, as Flask-Static-Digest writes them.
FINGERPRINTED = re.compile(r"-[0-9a-f]{32}\.[\w.]+$")
ONE_YEAR = 365 * 24 * 3600


class _StaticFiles(WhiteNoise):
    FOREVER = ONE_YEAR  # WhiteNoise's default is ten years; a year is what HTTP caches honour


def _is_fingerprinted(_path: str, url: str) -> bool:
    return bool(FINGERPRINTED.search(url))


def init_app(app: Flask) -> None:
    app.config.setdefault("FLASK_STATIC_DIGEST_COMPRESSION", ["gzip", "brotli"])
    static_digest.init_app(app)
    manifest = static_digest.manifests.get("static", {})

    @app.url_defaults
    def fingerprinted_name(endpoint: str, values: dict) -> None:
        if endpoint == "static" and "filename" in values:
            values["filename"] = manifest.get(values["filename"], values["filename"])

    app.wsgi_app = _StaticFiles(app.wsgi_app, root=app.static_folder, prefix=app.static_url_path,
                                max_age=0, immutable_file_test=_is_fingerprinted)
