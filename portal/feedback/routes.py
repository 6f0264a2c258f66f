"""Views for the feedback blueprint."""

from portal.feedback import bp  # noqa: F401
