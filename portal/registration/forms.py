"""The registration form and the manage page's correction form."""

from __future__ import annotations

import unicodedata

from email_validator import EmailNotValidError, validate_email
from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import (
    BooleanField,
    EmailField,
    RadioField,
    SelectField,
    SelectMultipleField,
    StringField,
    TextAreaField,
)
from wtforms.fields.choices import SelectChoice  # noqa: F401  (re-exported for the views)
from wtforms.validators import DataRequired, InputRequired, Length, Optional, ValidationError
from wtforms.widgets import CheckboxInput, ListWidget

from portal.models import Sector

SECTOR_LABELS = {
    Sector.LAW_ENFORCEMENT: _l("Law enforcement"),
    Sector.EDUCATION: _l("Education"),
    Sector.CHILD_PROTECTION: _l("Child protection / NGO"),
    Sector.HEALTH_SOCIAL: _l("Health / social services"),
    Sector.GOVERNMENT: _l("Government"),
    Sector.INDUSTRY: _l("Industry / technology"),
    Sector.ACADEMIA: _l("Academia / research"),
    Sector.PARENT: _l("Parent / caregiver"),
    Sector.OTHER: _l("Other"),
}

#: Stored as these codes (language-neutral); labels are for people.
REGION_LABELS = {
    "AB": _l("Alberta"),
    "BC": _l("British Columbia"),
    "MB": _l("Manitoba"),
    "NB": _l("New Brunswick"),
    "NL": _l("Newfoundland and Labrador"),
    "NS": _l("Nova Scotia"),
    "NT": _l("Northwest Territories"),
    "NU": _l("Nunavut"),
    "ON": _l("Ontario"),
    "PE": _l("Prince Edward Island"),
    "QC": _l("Quebec"),
    "SK": _l("Saskatchewan"),
    "YT": _l("Yukon"),
    "outside": _l("Outside Canada"),
}

LANGUAGE_LABELS = {"en": "English", "fr": "Français"}


def _strip(value):
    return value.strip() if isinstance(value, str) else value


def no_control_characters(multiline: bool = False):
    """Control characters (NUL, escape sequences…) are never part of a name or a note."""
    allowed = {"\n", "\r", "\t"} if multiline else set()

    def check(form, field):
        data = field.data if isinstance(field.data, str) else ""
        if any(unicodedata.category(c) in ("Cc", "Cf", "Cs", "Co") and c not in allowed
               and c not in ("\u200d", "\u200c") for c in data):
            raise ValidationError(_l("Remove the invisible or control characters from this field."))

    return check


def deliverable_shape(form, field):
    """Check the address's shape (not its DNS) and keep the normalised form."""
    try:
        checked = validate_email(field.data or "", check_deliverability=False)
    except EmailNotValidError as error:
        raise ValidationError(_l("Enter an email address like name@example.org.")) from error
    field.data = checked.normalized


class MultiCheckboxField(SelectMultipleField):
    widget = ListWidget(prefix_label=False)
    option_widget = CheckboxInput()


def _panel_question_field():
    return TextAreaField(
        _l("A question for the presenters (optional)"), filters=[_strip],
        validators=[Optional(), Length(max=1000), no_control_characters(multiline=True)],
        render_kw={"rows": 3, "maxlength": 1000})


def _panel_presentation_field():
    # Choices are the webinar's talks, set by the view; checked there (only when a question is asked).
    return SelectField(_l("For"), choices=[], validate_choice=False)


def _panel_share_name_field():
    return BooleanField(_l("My name may be given with my question (otherwise it stays anonymous)"))


class RegistrationForm(FlaskForm):
    full_name = StringField(
        _l("Full name"), filters=[_strip],
        validators=[DataRequired(_l("Enter your full name.")), Length(max=200), no_control_characters()],
        render_kw={"autocomplete": "name", "maxlength": 200},
    )
    email = EmailField(
        _l("Email address"), filters=[_strip],
        validators=[DataRequired(_l("Enter your email address.")), Length(max=254), no_control_characters(),
                    deliverable_shape],
        render_kw={"autocomplete": "email", "maxlength": 254, "spellcheck": "false"},
    )
    organisation_name = StringField(
        _l("Organisation"), filters=[_strip],
        validators=[Optional(), Length(max=200), no_control_characters()],
        render_kw={"autocomplete": "organization", "maxlength": 200},
    )
    sector = SelectField(
        _l("Sector"),
        choices=[SelectChoice("", _l("Choose a sector"))]
        + [SelectChoice(s.value, label) for s, label in SECTOR_LABELS.items()],
        validators=[InputRequired(_l("Choose the sector you work in."))],
    )
    region = SelectField(
        _l("Province, territory or country"),
        choices=[SelectChoice("", _l("Choose where you are"))]
        + [SelectChoice(code, label) for code, label in REGION_LABELS.items()],
        validators=[InputRequired(_l("Choose your province or territory, or “Outside Canada”."))],
    )
    preferred_language = RadioField(
        _l("Language for emails"), choices=[SelectChoice(code, label) for code, label in LANGUAGE_LABELS.items()],
        validators=[InputRequired(_l("Choose English or French."))],
    )
    accessibility_needs = TextAreaField(
        _l("Accessibility needs"), filters=[_strip],
        validators=[Optional(), Length(max=2000), no_control_characters(multiline=True)],
        render_kw={"rows": 3, "maxlength": 2000},
    )
    panel_question = _panel_question_field()
    panel_presentation = _panel_presentation_field()
    panel_share_name = _panel_share_name_field()
    also_register = MultiCheckboxField(_l("Also register me for"), choices=[], validate_choice=True)
    consent = BooleanField(
        _l("I have read the privacy notice and agree to my information being used to run this webinar."),
        validators=[DataRequired(_l("You need to agree to the privacy notice to register."))],
    )
    #: Honeypot: hidden from people (CSS and aria-hidden), filled in by naive bots.
    website = StringField(_l("Leave this field empty"), render_kw={"autocomplete": "off", "tabindex": "-1"})

    #: The organisers' own questions on this form (see ``form_with_questions``).
    questions = ()

    def sector_value(self) -> Sector:
        return Sector(self.sector.data)


class DetailsForm(FlaskForm):
    """What an attendee may correct themselves (the email is the identity, so not that)."""

    full_name = StringField(
        _l("Full name"), filters=[_strip],
        validators=[DataRequired(_l("Enter your full name.")), Length(max=200), no_control_characters()],
        render_kw={"autocomplete": "name", "maxlength": 200},
    )
    organisation_name = StringField(
        _l("Organisation"), filters=[_strip],
        validators=[Optional(), Length(max=200), no_control_characters()],
        render_kw={"autocomplete": "organization", "maxlength": 200},
    )


class PanelQuestionForm(FlaskForm):
    """Another question for the presenters, from the manage page."""

    panel_question = _panel_question_field()
    panel_presentation = _panel_presentation_field()
    panel_share_name = _panel_share_name_field()


class ConfirmForm(FlaskForm):
    """A form with only its CSRF token: the cancel confirmation."""


# --- the organisers' own questions ------------------------------------------------------


def question_field_name(question) -> str:
    return f"q_{question.id}"


def _question_field(question, language: str):
    from portal.models import QuestionKind
    from portal.services.questions import MAX_TEXT, YES_NO_WORDS

    label = question.label(language)
    if question.kind in MAX_TEXT:
        limit = MAX_TEXT[question.kind]
        kind = StringField if question.kind == QuestionKind.SHORT_TEXT else TextAreaField
        return kind(label, filters=[_strip],
                    validators=[Optional(), Length(max=limit), no_control_characters(multiline=True)],
                    render_kw={"maxlength": limit})
    if question.kind in (QuestionKind.ONE_CHOICE, QuestionKind.YES_NO):
        pairs = (list(YES_NO_WORDS.items()) if question.kind == QuestionKind.YES_NO
                 else [(c["code"], c["fr"] if language == "fr" else c["en"])
                       for c in question.choices if not c.get("archived")])
        return RadioField(label, choices=[SelectChoice(code, words) for code, words in pairs],
                          validators=[Optional()])
    if question.kind == QuestionKind.SEVERAL_CHOICES:
        return MultiCheckboxField(label, choices=[SelectChoice(c["code"], c["fr"] if language == "fr" else c["en"])
                                                  for c in question.choices if not c.get("archived")],
                                  validators=[Optional()])
    render = {"inputmode": "decimal", "maxlength": 20} if question.kind == QuestionKind.NUMBER else {"type": "date"}
    return StringField(label, filters=[_strip], validators=[Optional(), Length(max=20)], render_kw=render)


def form_with_questions(base, questions, language: str):
    """``base`` (a form class) with one field per question, named ``q_<id>``, checked as the server decides.

    A question whose condition is not met is neither required nor kept; a required
    question that is asked and left empty gets its message next to the field.
    """
    if not questions:
        return base
    from portal.services import questions as rules

    fields = {question_field_name(q): _question_field(q, language) for q in questions}

    def validate(self, extra_validators=None):
        base.validate(self, extra_validators)
        values = {}
        for question in questions:
            field = self[question_field_name(question)]
            problem = None
            if question.kind == "number" and not field.errors:
                problem = rules.number_problem(field.data)
            elif question.kind == "date" and not field.errors:
                problem = rules.date_problem(field.data)
            if problem:
                field.errors.append(problem)
                continue
            values[question.id] = None if field.errors else rules.stored_value(question, field.data)
        for question in questions:
            field = self[question_field_name(question)]
            if not rules.is_asked(question, values):
                field.errors = []
                values[question.id] = None
                continue
            if question.required and values.get(question.id) is None and not field.errors:
                field.errors.append(_l("Answer this question."))
        self.answer_values = {k: v for k, v in values.items() if v is not None}
        # Recounted: an error on a question that is not asked no longer counts.
        return not any(field.errors for field in self)

    return type(f"{base.__name__}WithQuestions", (base,), {**fields, "validate": validate,
                                                          "questions": questions})
