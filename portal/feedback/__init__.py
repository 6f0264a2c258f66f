from flask import Blueprint

bp = Blueprint("feedback", __name__)

from portal.feedback import routes  # noqa: E402,F401  (routes attach themselves to bp)
