"""Forms of the organiser's "after the webinar" pages: certificates, materials, follow-up."""

from __future__ import annotations

from decimal import Decimal

from flask_babel import lazy_gettext as _l
from flask_wtf.file import FileField
from wtforms import BooleanField, DecimalField, IntegerField, StringField
from wtforms.validators import URL, DataRequired, Length, NumberRange, Optional, StopValidation

from portal.organiser.forms import OrganiserForm


def _finite(form, field) -> None:
    """Decimal reads "sNaN" and "Infinity" too; NumberRange cannot compare a signalling NaN."""
    if field.data is not None and not field.data.is_finite():
        raise StopValidation(_l("Give a number of hours between 0.25 and 24."))


class AfterSettingsForm(OrganiserForm):
    credited_hours = DecimalField(
        _l("Hours credited on certificates (empty = the webinar's length)"), places=2,
        validators=[Optional(), _finite, NumberRange(min=Decimal("0.25"), max=Decimal("24"),
                                                     message=_l("Give a number of hours between 0.25 and 24."))])
    materials_public = BooleanField(_l("Show the recording and materials on the public page too"))


class SeriesCertificateForm(OrganiserForm):
    min_webinars = IntegerField(
        _l("Webinars to attend for the series certificate (empty = all)"),
        validators=[Optional(), NumberRange(min=1, max=100, message=_l("Give a whole number from 1 to 100."))])


class MaterialLinkForm(OrganiserForm):
    title = StringField(_l("Title"), validators=[DataRequired(), Length(max=300)])
    url = StringField(_l("Link"), validators=[DataRequired(), URL(require_tld=False), Length(max=500)])


class MaterialUploadForm(OrganiserForm):
    title = StringField(_l("Title (empty = the file's name)"), validators=[Optional(), Length(max=300)])
    file = FileField(_l("File (PDF, PPTX, DOCX, XLSX, TXT, PNG or JPEG)"))
