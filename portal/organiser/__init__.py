from flask import Blueprint

bp = Blueprint("organiser", __name__)

from portal.organiser import routes  # noqa: E402,F401  (routes attach themselves to bp)
