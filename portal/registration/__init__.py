from flask import Blueprint

bp = Blueprint("registration", __name__)

from portal.registration import routes  # noqa: E402,F401  (routes attach themselves to bp)
