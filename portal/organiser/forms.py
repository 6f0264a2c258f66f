"""Organiser forms; labels are lazy so they follow the reader's language."""

from __future__ import annotations

from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from flask_wtf.file import FileAllowed, FileField, FileRequired
from wtforms import (
    BooleanField,
    DateField,
    HiddenField,
    IntegerField,
    PasswordField,
    SelectField,
    SelectMultipleField,
    StringField,
    TextAreaField,
    TimeField,
)
from wtforms.fields.choices import SelectChoice
from wtforms.validators import (
    URL,
    DataRequired,
    Email,
    InputRequired,
    Length,
    NumberRange,
    Optional,
    Regexp,
    ValidationError,
)

from portal.labels import DECLINE_REASON_LABELS, QUESTION_KIND_LABELS, WEBINAR_AUDIENCE_LABELS
from portal.models import DeclineReason, Role, WebinarAudience, WebinarLanguage
from portal.services.audience import InvalidDomain, parse_domain_patterns


def printable(value):
    """Drop NUL and other control characters (except line breaks and tabs) from text input:
    PostgreSQL refuses NUL, and nobody means to type the others."""
    if not isinstance(value, str):
        return value
    return "".join(c for c in value if c.isprintable() or c in "\n\r\t")


class OrganiserForm(FlaskForm):
    """Base of every organiser form: text input is cleaned of control characters."""

    class Meta:
        def bind_field(self, form, unbound_field, options):
            options["filters"] = [*options.get("filters", ()), printable]
            return unbound_field.bind(form=form, **options)


class EitherLanguage:
    """Form mixin: each field named in ``EITHER_LANGUAGE`` needs its English (the field itself)
    or its French (``<name>_fr``); saving with one of them empty is allowed."""

    EITHER_LANGUAGE: tuple[str, ...] = ()

    def validate(self, extra_validators=None) -> bool:
        valid = super().validate(extra_validators)
        for name in self.EITHER_LANGUAGE:
            english, french = self[name], self[f"{name}_fr"]
            if not (english.data or "").strip() and not (french.data or "").strip():
                english.errors = [*english.errors, _l("Write it in English or in French (or both).")]
                valid = False
        return valid


def french(field_class, label, max_length: int, **options):
    """The French twin of a translatable field: optional, same length limit, lang="fr" for spell-checkers."""
    return field_class(label, validators=[Optional(), Length(max=max_length)],
                       render_kw={"lang": "fr", **options.pop("render_kw", {})}, **options)


def english(field_class, label, max_length: int, **options):
    return field_class(label, validators=[Optional(), Length(max=max_length)],
                       render_kw={"lang": "en", **options.pop("render_kw", {})}, **options)


def choices(pairs) -> list[SelectChoice]:
    """(value, label) pairs as WTForms select choices."""
    return [SelectChoice(value, label) for value, label in pairs]


SLUG_PATTERN = r"^[a-z0-9]+(?:-[a-z0-9]+)*$"
ROLE_CHOICES = [
    (Role.ADMIN.value, _l("Administrator")),
    (Role.ORGANISER.value, _l("Organiser")),
    (Role.VIEWER.value, _l("Viewer (read-only)")),
]


class LoginForm(OrganiserForm):
    email = StringField(_l("Email"), validators=[DataRequired(), Length(max=254)],
                        render_kw={"autocomplete": "username"})
    password = PasswordField(_l("Password"), validators=[DataRequired(), Length(max=200)],
                             render_kw={"autocomplete": "current-password"})
    next = HiddenField()


class EmptyForm(OrganiserForm):
    """Only the CSRF token: for buttons that change something (publish, logout)."""


class AccountForm(OrganiserForm):
    name = StringField(_l("Name"), validators=[DataRequired(), Length(max=200)])
    email = StringField(_l("Email"), validators=[DataRequired(), Email(), Length(max=254)])
    role = SelectField(_l("Role"), choices=choices(ROLE_CHOICES), default=Role.VIEWER.value)
    password = PasswordField(_l("Password"), validators=[DataRequired(), Length(max=200)],
                             render_kw={"autocomplete": "new-password"})
    confirm = PasswordField(_l("Password again"), validators=[DataRequired(), Length(max=200)],
                            render_kw={"autocomplete": "new-password"})

    def validate_confirm(self, field):
        if field.data != self.password.data:
            raise ValidationError(_l("The two passwords differ."))


class PasswordChangeForm(OrganiserForm):
    current_password = PasswordField(_l("Current password"), validators=[DataRequired(), Length(max=200)],
                                     render_kw={"autocomplete": "current-password"})
    password = PasswordField(_l("New password"), validators=[DataRequired(), Length(max=200)],
                             render_kw={"autocomplete": "new-password"})
    confirm = PasswordField(_l("New password again"), validators=[DataRequired(), Length(max=200)],
                            render_kw={"autocomplete": "new-password"})

    def validate_confirm(self, field):
        if field.data != self.password.data:
            raise ValidationError(_l("The two passwords differ."))


class RoleForm(OrganiserForm):
    role = SelectField(_l("Role"), choices=choices(ROLE_CHOICES))


def _slug_field():
    return StringField(
        _l("Slug (web address)"),
        validators=[Optional(), Length(max=120),
                    Regexp(SLUG_PATTERN, message=_l("Use lower-case letters, digits and single hyphens."))],
    )


# Translatable fields come in pairs: ``title`` holds the English, ``title_fr`` the French
# (the edit form shows them side by side).

class SeriesForm(EitherLanguage, OrganiserForm):
    EITHER_LANGUAGE = ("title",)

    title = english(StringField, _l("Title (English)"), 300)
    title_fr = french(StringField, _l("Title (French)"), 300)
    slug = _slug_field()
    subtitle = english(StringField, _l("Subtitle (English)"), 300)
    subtitle_fr = french(StringField, _l("Subtitle (French)"), 300)
    host_organisation_id = SelectField(_l("Host organisation"), coerce=int, default=0)
    summary = english(TextAreaField, _l("Summary (English)"), 20000)
    summary_fr = french(TextAreaField, _l("Summary (French)"), 20000)
    closing_remarks = english(TextAreaField, _l("Closing remarks (English)"), 20000)
    closing_remarks_fr = french(TextAreaField, _l("Closing remarks (French)"), 20000)
    objectives = english(TextAreaField, _l("Objectives, one per line (English)"), 20000)
    objectives_fr = french(TextAreaField, _l("Objectives, one per line (French, same order)"), 20000)
    timezone = StringField(_l("Time zone"), default="America/Toronto",
                           validators=[DataRequired(), Length(max=64)])
    allowed_email_domains = TextAreaField(
        _l("Allowed email domains (one per line)"), validators=[Optional(), Length(max=20000)],
        render_kw={"rows": 4, "spellcheck": "false"})

    def validate_allowed_email_domains(self, field):
        try:
            parse_domain_patterns(field.data or "")
        except InvalidDomain as error:
            raise ValidationError(_l("“%(line)s” is not an email domain. Write one domain per line, such as "
                                     "rcmp-grc.gc.ca or *.police.ca.", line=error.line[:100])) from error

    def validate_timezone(self, field):
        from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

        try:
            ZoneInfo(field.data.strip())
        except (ZoneInfoNotFoundError, ValueError) as exc:
            raise ValidationError(_l("Unknown time zone; use a name such as America/Toronto.")) from exc


class KeyThemeForm(EitherLanguage, OrganiserForm):
    EITHER_LANGUAGE = ("heading",)

    heading = english(StringField, _l("Heading (English)"), 2000)
    heading_fr = french(StringField, _l("Heading (French)"), 2000)
    points = english(TextAreaField, _l("Points, one per line (English)"), 20000)
    points_fr = french(TextAreaField, _l("Points, one per line (French, same order)"), 20000)


LANGUAGE_CHOICES = [
    ("", _l("Not announced")),
    (WebinarLanguage.ENGLISH.value, _l("English")),
    (WebinarLanguage.FRENCH.value, _l("French")),
    (WebinarLanguage.BILINGUAL.value, _l("Bilingual")),
]


class WebinarForm(EitherLanguage, OrganiserForm):
    EITHER_LANGUAGE = ("title",)

    title = english(StringField, _l("Title (English)"), 300)
    title_fr = french(StringField, _l("Title (French)"), 300)
    slug = _slug_field()
    start_date = DateField(_l("Date (in the series' time zone)"), validators=[InputRequired()])
    start_time = TimeField(_l("Start time (in the series' time zone)"), validators=[InputRequired()])
    duration_minutes = IntegerField(_l("Duration (minutes)"), default=90,
                                    validators=[DataRequired(), NumberRange(min=1, max=24 * 60)])
    description = english(TextAreaField, _l("Description (English)"), 20000)
    description_fr = french(TextAreaField, _l("Description (French)"), 20000)
    language = SelectField(_l("Language"), choices=choices(LANGUAGE_CHOICES), default="")
    audience = SelectField(_l("Who may attend"),
                           choices=choices((a.value, word) for a, word in WEBINAR_AUDIENCE_LABELS.items()),
                           default=WebinarAudience.PUBLIC.value)
    capacity = IntegerField(_l("Capacity (empty = unlimited)"),
                            validators=[Optional(), NumberRange(min=1, max=1_000_000)])
    waitlist_enabled = BooleanField(_l("Waiting list when full"), default=True)
    opens_date = DateField(_l("Registration opens: date"), validators=[Optional()])
    opens_time = TimeField(_l("Registration opens: time"), validators=[Optional()])
    closes_date = DateField(_l("Registration closes: date"), validators=[Optional()])
    closes_time = TimeField(_l("Registration closes: time"), validators=[Optional()])
    join_url = StringField(_l("Join link"), validators=[Optional(), URL(require_tld=False), Length(max=500)])
    recording_url = StringField(_l("Recording link"),
                                validators=[Optional(), URL(require_tld=False), Length(max=500)])
    highlights = english(TextAreaField, _l("Discussion highlights (English)"), 50000)
    highlights_fr = french(TextAreaField, _l("Discussion highlights (French)"), 50000)
    #: Shown only when an edit needs it (a start in the past, a capacity under the seats taken).
    confirm_changes = BooleanField(_l("Yes, save these changes anyway"))


class CancelWebinarForm(EitherLanguage, OrganiserForm):
    EITHER_LANGUAGE = ("message",)

    message = english(TextAreaField, _l("Message to registrants (English)"), 5000)
    message_fr = french(TextAreaField, _l("Message to registrants (French)"), 5000)


class PresentationForm(EitherLanguage, OrganiserForm):
    EITHER_LANGUAGE = ("title",)

    title = english(StringField, _l("Title (English)"), 500)
    title_fr = french(StringField, _l("Title (French)"), 500)
    abstract = english(TextAreaField, _l("Abstract (English)"), 20000)
    abstract_fr = french(TextAreaField, _l("Abstract (French)"), 20000)
    presenter_ids = SelectMultipleField(_l("Presenters"), coerce=int,
                                        validators=[DataRequired(message=_l("Choose at least one presenter."))])


class PresenterForm(OrganiserForm):
    name = StringField(_l("Name (or team name)"), validators=[DataRequired(), Length(max=300)])
    slug = _slug_field()
    honorific = english(StringField, _l("Honorific (Dr., Detective…) (English)"), 100)
    honorific_fr = french(StringField, _l("Honorific (Dr, Détective…) (French)"), 100)
    post_nominals = StringField(_l("Post-nominals (CBE, QPM…)"), validators=[Optional(), Length(max=100)])
    is_team = BooleanField(_l("This is a team, not a named person"))
    bio = english(TextAreaField, _l("Short biography (English)"), 20000)
    bio_fr = french(TextAreaField, _l("Short biography (French)"), 20000)
    role1_title = english(StringField, _l("Role 1: job title (English)"), 300)
    role1_title_fr = french(StringField, _l("Role 1: job title (French)"), 300)
    role1_unit = english(StringField, _l("Role 1: unit (English)"), 300)
    role1_unit_fr = french(StringField, _l("Role 1: unit (French)"), 300)
    role1_organisation_id = SelectField(_l("Role 1: organisation"), coerce=int, default=0)
    role2_title = english(StringField, _l("Role 2: job title (English)"), 300)
    role2_title_fr = french(StringField, _l("Role 2: job title (French)"), 300)
    role2_unit = english(StringField, _l("Role 2: unit (English)"), 300)
    role2_unit_fr = french(StringField, _l("Role 2: unit (French)"), 300)
    role2_organisation_id = SelectField(_l("Role 2: organisation"), coerce=int, default=0)
    role3_title = english(StringField, _l("Role 3: job title (English)"), 300)
    role3_title_fr = french(StringField, _l("Role 3: job title (French)"), 300)
    role3_unit = english(StringField, _l("Role 3: unit (English)"), 300)
    role3_unit_fr = french(StringField, _l("Role 3: unit (French)"), 300)
    role3_organisation_id = SelectField(_l("Role 3: organisation"), coerce=int, default=0)

    ROLE_ROWS = 3


class OrganisationForm(OrganiserForm):
    #: The English name is required: it is the organisation's unique name in the portal.
    name = StringField(_l("Name (English)"), validators=[DataRequired(), Length(max=200)], render_kw={"lang": "en"})
    name_fr = french(StringField, _l("Name (French)"), 200)
    acronym = english(StringField, _l("Acronym (English)"), 40)
    acronym_fr = french(StringField, _l("Acronym (French)"), 40)
    website = StringField(_l("Website"), validators=[Optional(), URL(require_tld=False), Length(max=500)])
    country = StringField(_l("Country"), validators=[Optional(), Length(max=100)])


AUDIENCE_CHOICES = [
    ("all", _l("Everyone registered (not cancelled)")),
    ("confirmed", _l("Confirmed")),
    ("waitlisted", _l("Waiting list")),
    ("attended", _l("Attended")),
    ("not_attended", _l("Confirmed but did not attend")),
]


class MessageForm(OrganiserForm):
    """Written in both languages when possible; each registrant gets theirs, else the other one."""

    audience = SelectField(_l("Send to"), choices=choices(AUDIENCE_CHOICES), default="all")
    subject = english(StringField, _l("Subject (English)"), 200)
    subject_fr = french(StringField, _l("Subject (French)"), 200)
    body = english(TextAreaField, _l("Message (English)"), 20000)
    body_fr = french(TextAreaField, _l("Message (French)"), 20000)
    confirmed = HiddenField(default="")

    def validate(self, extra_validators=None) -> bool:
        valid = super().validate(extra_validators)
        complete = 0
        for subject, body in ((self.subject, self.body), (self.subject_fr, self.body_fr)):
            has_subject, has_body = bool((subject.data or "").strip()), bool((body.data or "").strip())
            if has_subject != has_body:
                missing = body if has_subject else subject
                missing.errors = [*missing.errors, _l("Give both the subject and the message in this language.")]
                valid = False
            complete += has_subject and has_body
        if not complete:
            self.subject.errors = [*self.subject.errors, _l("Write the message in English or in French (or both).")]
            valid = False
        return valid


BULK_ACTIONS = [
    ("approve", _l("Approve")),
    ("decline", _l("Decline…")),
    ("attended", _l("Mark attended")),
    ("not_attended", _l("Mark not attended")),
    ("move_up", _l("Move up from the waiting list")),
    ("cancel", _l("Cancel registrations")),
]


class BulkForm(OrganiserForm):
    action = SelectField(_l("With the selected registrations"), choices=choices(BULK_ACTIONS))
    confirmed = HiddenField(default="")
    #: Only for "decline": the reason the email gives, and an optional note to the people declined.
    decline_reason = SelectField(
        _l("Reason given in the email"),
        choices=choices((r.value, word) for r, word in DECLINE_REASON_LABELS.items()),
        default=DeclineReason.NOT_ELIGIBLE.value)
    decline_note = TextAreaField(_l("Note to add to the email (optional)"),
                                 validators=[Optional(), Length(max=2000)], render_kw={"rows": 3})


class TranslationsUploadForm(OrganiserForm):
    file = FileField(_l("Translated file (CSV)"), validators=[
        FileRequired(_l("Choose the CSV file to import.")),
        FileAllowed(["csv"], _l("Upload the .csv file you downloaded and translated.")),
    ])


class InvitationForm(OrganiserForm):
    """A list of people to invite: pasted, or a CSV file (a ``name,email`` header is optional)."""

    people = TextAreaField(_l("People to invite (one per line: name, email)"),
                           validators=[Length(max=200_000)], render_kw={"rows": 8, "spellcheck": "false"})
    upload = FileField(_l("Or upload a CSV file"),
                       validators=[FileAllowed(["csv", "txt"], _l("Upload a .csv or .txt file."))])

    def validate_people(self, field):
        if not (field.data or "").strip() and not self.upload.data:
            raise ValidationError(_l("Paste at least one person, or upload a file."))




class QuestionForm(OrganiserForm):
    """One registration question, worded in both languages."""

    kind = SelectField(_l("Kind of answer"), choices=choices((k.value, w) for k, w in QUESTION_KIND_LABELS.items()),
                       default="short_text")
    label_en = StringField(_l("Question (English)"), validators=[DataRequired(), Length(max=500)])
    label_fr = StringField(_l("Question (French)"), validators=[DataRequired(), Length(max=500)])
    help_en = TextAreaField(_l("Help text (English)"), validators=[Optional(), Length(max=2000)],
                            render_kw={"rows": 2})
    help_fr = TextAreaField(_l("Help text (French)"), validators=[Optional(), Length(max=2000)],
                            render_kw={"rows": 2})
    required = BooleanField(_l("An answer is required"))
    choices = TextAreaField(_l("Choices, one per line: English | French"), validators=[Optional(), Length(max=20000)],
                            render_kw={"rows": 5})
    condition = SelectField(_l("Ask this question"), choices=[], validate_choice=True, default="")


class SiteIdentityForm(OrganiserForm):
    """The organisation's name, logo, colour and footer links (admins only)."""

    name_en = StringField(_l("Organisation name in English"), validators=[DataRequired(), Length(max=200)])
    name_fr = StringField(_l("Organisation name in French"), validators=[DataRequired(), Length(max=200)])
    logo = FileField(_l("Logo (PNG or SVG, at most 200 KB)"))
    remove_logo = BooleanField(_l("Remove the current logo"))
    logo_alt_en = StringField(_l("Text alternative of the logo, in English"), validators=[Length(max=200)])
    logo_alt_fr = StringField(_l("Text alternative of the logo, in French"), validators=[Length(max=200)])
    accent = StringField(_l("Accent colour"), validators=[Optional(), Length(max=7)])
    privacy_url_en = StringField(_l("Privacy page (English)"), validators=[Length(max=500)])
    privacy_url_fr = StringField(_l("Privacy page (French)"), validators=[Length(max=500)])
    accessibility_url_en = StringField(_l("Accessibility page (English)"), validators=[Length(max=500)])
    accessibility_url_fr = StringField(_l("Accessibility page (French)"), validators=[Length(max=500)])
    contact_url_en = StringField(_l("Contact page (English)"), validators=[Length(max=500)])
    contact_url_fr = StringField(_l("Contact page (French)"), validators=[Length(max=500)])
    terms_url_en = StringField(_l("Terms and conditions (English)"), validators=[Length(max=500)])
    terms_url_fr = StringField(_l("Terms and conditions (French)"), validators=[Length(max=500)])

    TEXT_FIELDS = ("name_en", "name_fr", "logo_alt_en", "logo_alt_fr", "accent") + tuple(
        f"{kind}_url_{lang}" for kind in ("privacy", "accessibility", "contact", "terms")
        for lang in ("en", "fr"))

    def validate_accent(self, field):
        from portal.services.site_identity import accent_problem

        if field.data and (problem := accent_problem(field.data.strip().lower())):
            raise ValidationError(problem)

    def validate(self, extra_validators=None):
        from portal.services.site_identity import url_problem

        valid = super().validate(extra_validators)
        for name in self.TEXT_FIELDS:
            if name.endswith(("_en", "_fr")) and "_url_" in name:
                field = self[name]
                if problem := url_problem((field.data or "").strip()):
                    field.errors = [*field.errors, problem]
                    valid = False
        return valid


def manual_registration_form():
    """The public registration form minus what only a visitor's form needs (the honeypot, the other
    webinars), so a registrant added by hand passes the very same checks."""
    from portal.registration.forms import RegistrationForm

    class ManualRegistrationForm(RegistrationForm):
        also_register = None
        website = None
        consent = BooleanField(
            _l("The person has read the privacy notice and agrees to their information being used to run "
               "this webinar."),
            validators=[DataRequired(_l("Registering someone needs their agreement to the privacy notice."))])

    return ManualRegistrationForm
