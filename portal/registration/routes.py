"""Views for the registration blueprint."""

from portal.registration import bp  # noqa: F401
