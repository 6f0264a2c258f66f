from flask import Blueprint

bp = Blueprint("public", __name__)

from portal.public import after_views, identity_routes, routes  # noqa: E402,F401  (routes attach themselves to bp)
