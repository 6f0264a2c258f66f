"""account pages."""
from portal.organiser import bp  # noqa: F401

