"""Forms of the attendance page (kept apart from forms.py: one topic, one module)."""

from __future__ import annotations

from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from flask_wtf.file import FileField, FileRequired
from wtforms import BooleanField, HiddenField, IntegerField, StringField
from wtforms.validators import AnyOf, Email, Length, NumberRange, Optional

from portal.services.attendance import MAX_THRESHOLD_MINUTES


class AttendanceImportForm(FlaskForm):
    report = FileField(_l("Attendance report"), validators=[FileRequired(_l("Choose the report file."))])
    overrule_hand = BooleanField(_l("Let the report overrule check-ins ticked by hand"))


class ThresholdForm(FlaskForm):
    threshold_minutes = IntegerField(
        _l("Minutes needed to count as attended"),
        validators=[Optional(), NumberRange(min=0, max=MAX_THRESHOLD_MINUTES,
                                            message=_l("Between 0 and 1440 minutes."))],
    )


class MatchForm(FlaskForm):
    action = HiddenField(validators=[AnyOf(("confirm", "leave"))])
    registration_email = StringField(
        _l("Or the email of another registration"),
        validators=[Optional(), Length(max=254), Email(message=_l("Enter an email address."))],
        filters=[lambda value: value.strip() if isinstance(value, str) else value],
    )


class FinalForm(FlaskForm):
    final = HiddenField(validators=[AnyOf(("yes", "no"))])


class UseReportForm(FlaskForm):
    """One hand tick overruled by the report's minutes."""
