"""The feedback form: fixed questions plus one rating per presentation of the webinar."""

from __future__ import annotations

from flask_babel import gettext
from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from markupsafe import Markup, escape
from wtforms import BooleanField, RadioField, TextAreaField
from wtforms.fields.choices import SelectChoice
from wtforms.validators import InputRequired, Length, Optional

from portal.models import FeedbackResponse, Presentation
from portal.services.feedback import Answers

TEXT_LIMIT = 2000

RATING_CHOICES = [
    SelectChoice(1, _l("1 – Poor")),
    SelectChoice(2, _l("2 – Fair")),
    SelectChoice(3, _l("3 – Good")),
    SelectChoice(4, _l("4 – Very good")),
    SelectChoice(5, _l("5 – Excellent")),
]
RELEVANCE_CHOICES = [
    SelectChoice(1, _l("1 – Not relevant")),
    SelectChoice(2, _l("2 – Slightly relevant")),
    SelectChoice(3, _l("3 – Somewhat relevant")),
    SelectChoice(4, _l("4 – Relevant")),
    SelectChoice(5, _l("5 – Very relevant")),
]


def _text(label) -> TextAreaField:
    return TextAreaField(label, validators=[Optional(), Length(max=TEXT_LIMIT)],
                         filters=[lambda value: value.strip() if isinstance(value, str) else value],
                         render_kw={"rows": 4, "maxlength": TEXT_LIMIT})


class FeedbackForm(FlaskForm):
    overall_rating = RadioField(
        _l("Overall, how would you rate this webinar?"), choices=RATING_CHOICES, coerce=int,
        validators=[InputRequired(message=_l("Choose a rating from 1 to 5."))],
    )
    relevance = RadioField(_l("How relevant was it to your work?"), choices=RELEVANCE_CHOICES, coerce=int,
                           validators=[Optional()])
    most_useful = _text(_l("What was most useful?"))
    improvements = _text(_l("What could we improve?"))
    topics_wanted = _text(_l("Which topics would you like in future sessions?"))
    quote_consent = BooleanField(_l("You may quote my comments anonymously"))
    contact_consent = BooleanField(_l("You may contact me about future sessions (organisers will see my name and email with my answers)"))

    presentation_fields: list[tuple[Presentation, str]] = []

    def presentation_ratings(self) -> list[RadioField]:
        return [self[name] for _presentation, name in self.presentation_fields]

    def answers(self) -> Answers:
        return Answers(
            overall_rating=self.overall_rating.data,
            presentation_ratings={p.id: self[name].data for p, name in self.presentation_fields
                                  if self[name].data is not None},
            relevance=self.relevance.data,
            most_useful=self.most_useful.data or "",
            improvements=self.improvements.data or "",
            topics_wanted=self.topics_wanted.data or "",
            quote_consent=bool(self.quote_consent.data),
            contact_consent=bool(self.contact_consent.data),
        )


def presentation_label(presentation: Presentation) -> Markup:
    """Title and presenters in the reader's language; a title only in the other one is marked."""
    from portal.content_language import presenter_name, shown

    title = shown(presentation, "title")
    names = Markup(", ").join(presenter_name(p) for p in presentation.presenters)
    return Markup("{} — {}").format(title, names) if names else title


def feedback_form(presentations: list[Presentation], previous: FeedbackResponse | None = None) -> FeedbackForm:
    """A form class made for this webinar's talks (WTForms fields are declared on the class)."""
    attributes = {"presentation_fields": []}
    for presentation in presentations:
        name = f"presentation_{presentation.id}"
        attributes[name] = RadioField(
            escape(gettext("Rate the presentation: %(title)s")) % {"title": presentation_label(presentation)},
            choices=RATING_CHOICES, coerce=int, validators=[Optional()],
        )
        attributes["presentation_fields"].append((presentation, name))
    form_class = type("WebinarFeedbackForm", (FeedbackForm,), attributes)
    form = form_class(obj=previous)
    if previous is not None and not form.is_submitted():
        for rating in previous.presentation_ratings:
            name = f"presentation_{rating.presentation_id}"
            if name in form:
                form[name].data = rating.rating
    return form
