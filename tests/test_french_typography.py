"""French written the Canadian way on every page and in every email.

Office québécois de la langue française: a no-break space (U+00A0) before a colon and inside
« »; a narrow no-break space (U+202F) before ; ? and !; never two punctuation marks where a
template glued a colon to a label that already ends its phrase ("webinaire ? :").

Every route of the app is visited at its French address (the list comes from ``app.url_map``:
a new page without a value for its arguments below fails here until it is added), and every
kind of email (every template in ``templates/email``) is produced through the services.
"""

from __future__ import annotations

import re
from datetime import timedelta
from html.parser import HTMLParser
from pathlib import Path

import pytest
from sqlalchemy import select

from portal.extensions import db
from portal.i18n import is_page
from portal.models import (
    DeclineReason,
    KeyTheme,
    Objective,
    OutboxMessage,
    Question,
    QuestionKind,
    Registration,
    ThemePoint,
    WebinarAudience,
)
from portal.services import (
    attendance,
    certificates,
    feedback_reminders,
    followup,
    invitations,
    programme_editing,
)
from portal.services import feedback as feedback_rules
from portal.services import registration as registration_rules
from tests.conftest import csrf_token_from
from tests.factories import (
    make_organisation,
    make_organiser,
    make_presentation,
    make_presenter,
    make_registration,
    make_series,
    make_webinar,
    now,
    sign_in,
)

NBSP, NARROW = "\u00a0", "\u202f"
EMAIL_TEMPLATES = Path(__file__).resolve().parent.parent / "templates" / "email"

# --- the rules --------------------------------------------------------------------------------

#: Not prose: addresses, e-mail addresses, clock times and ratios ("4:3", ISO timestamps).
NOT_PROSE = re.compile(r"https?://\S+|mailto:\S+|[\w.+-]+@[\w-]+(?:\.[\w-]+)+|\d+(?::\d+)+")


def typography_faults(text: str) -> list[str]:
    """Each place where ``text`` breaks the rules, with a little context."""
    prose = NOT_PROSE.sub(" ", text)
    faults = []

    def fault(match, why):
        start = max(0, match.start() - 30)
        faults.append(f"{why}: …{prose[start:match.end() + 15]!r}")

    for match in re.finditer(r"(.)(:)", prose):
        if match.group(1) != NBSP:
            fault(match, "colon without a no-break space before it")
    for match in re.finditer(r"(.)([;?!])", prose):
        if match.group(1) != NARROW:
            fault(match, f"{match.group(2)!r} without a narrow no-break space before it")
    for match in re.finditer(r"«(.)|(.)»", prose):
        if NBSP not in (match.group(1), match.group(2)):
            fault(match, "« » without no-break spaces inside")
    for match in re.finditer(r"[.?!…:;][\s\u00a0\u202f]*[:;]", prose):
        fault(match, "doubled punctuation")
    return faults


@pytest.mark.parametrize(("text", "faulty"), [
    (f"Nom complet{NBSP}: Ada", False), ("Nom complet: Ada", True), ("Nom complet : Ada", True),
    (f"Annuler{NARROW}?", False), ("Annuler?", True), (f"Annuler{NBSP}?", True),
    (f"«{NBSP}Québec{NBSP}»", False), ("« Québec »", True), ("webinaire?:", True),
    (f"webinaire{NARROW}?{NBSP}: réponse", True), (f"ce webinaire.{NBSP}: Vous", True),
    ("13 h 00 à 14 h 30, ratio 16:9, https://a.example/x?y=1;z=2 ada@example.org", False),
])
def test_the_checker_itself(text, faulty):
    assert bool(typography_faults(text)) is faulty


class FrenchText(HTMLParser):
    """What a French reader reads or hears: text, titles and labels, leaving out scripts,
    styles and anything marked as another language (``lang="en"``: the switch, or a text
    shown in English because it has no French yet)."""

    SPOKEN_ATTRIBUTES = ("title", "aria-label", "placeholder", "alt", "data-prefix")
    VOID = {"area", "base", "br", "col", "embed", "hr", "img", "input", "link", "meta", "source", "track", "wbr"}

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.parts: list[str] = []
        self.stack: list[bool] = []  # per open element: is it skipped?

    def skipping(self) -> bool:
        return any(self.stack)

    def handle_starttag(self, tag, attrs):
        attributes = dict(attrs)
        skipped = tag in ("script", "style") or attributes.get("lang", "fr") not in ("fr", "fr-CA")
        if not skipped and not self.skipping():
            self.parts.extend(v for k, v in attrs if k in self.SPOKEN_ATTRIBUTES and v)
        if tag not in self.VOID:
            self.stack.append(skipped)

    def handle_endtag(self, tag):
        if tag not in self.VOID and self.stack:
            self.stack.pop()

    def handle_data(self, data):
        if not self.skipping():
            self.parts.append(data)

    @classmethod
    def of(cls, html: str) -> str:
        parser = cls()
        parser.feed(html)
        return " ".join(" ".join(parser.parts).split(" "))


# --- a scene with something on every page -----------------------------------------------------

@pytest.fixture
def scene(app, client):
    police = make_organisation(name="Sûreté du Québec", acronym="SQ")
    series = make_series(slug="serie", title="Série sur la sécurité", summary="Résumé de la série.",
                         closing_remarks="Mot de la fin.")
    db.session.add(Objective(series=series, position=0, text="Comprendre les tendances"))
    theme = KeyTheme(series=series, position=0, heading="Prévention")
    db.session.add_all([theme, ThemePoint(theme=theme, position=0, text="Former les équipes")])
    presenter = make_presenter(organisation=police, slug="zoe", name="Zoë Tremblay", title="Analyste",
                               bio="Spécialiste des enquêtes en ligne.")
    ahead = make_webinar(series=series, slug="a-venir", title="Tendances actuelles", capacity=2,
                         waitlist_enabled=True, starts_at=now() + timedelta(days=10), description="Description.")
    past = make_webinar(series=series, slug="passe", title="Bilan de l’année", starts_at=now() - timedelta(days=2),
                        description="Description.", highlights="Points saillants de la discussion.")
    for webinar in (ahead, past):
        make_presentation(webinar, [presenter], title="Les réseaux", abstract="Résumé de la présentation.")
    seated, seated_token = make_registration(ahead, full_name="Léa Roy", preferred_language="fr",
                                             organisation_name="École", region="QC")
    attended, attended_token = make_registration(past, full_name="Éric Roy", preferred_language="fr",
                                                 attended=True, region="QC")
    make_registration(past, full_name="Noé Roy", preferred_language="fr", region="QC")  # did not come
    question = Question(series_id=series.id, kind=QuestionKind.SHORT_TEXT, label_en="Your role",
                        label_fr="Votre rôle", help_en="", help_fr="", choices=[])
    db.session.add(question)
    attendance.mark_final(past)
    certificate = certificates.certificate_for(attended)
    admin = make_organiser("admin")
    db.session.commit()
    return {"series": series, "theme": theme, "presenter": presenter, "organisation": police, "ahead": ahead,
            "past": past, "seated_token": seated_token, "attended_token": attended_token, "admin": admin,
            "presentation": ahead.presentations[0], "question": question, "certificate": certificate}


def argument_values(scene) -> dict[tuple[str, str] | str, object]:
    """A value for each route argument: by (endpoint, argument), else by argument."""
    return {
        ("public.presenter", "slug"): scene["presenter"].slug,
        ("public.series", "slug"): scene["series"].slug,
        ("public.series_report", "slug"): scene["series"].slug,
        "slug": scene["ahead"].slug,  # webinar pages, the registration form
        ("feedback.form", "token"): scene["attended_token"],
        ("feedback.erase", "token"): scene["attended_token"],  # erasing waits for the webinar's end
        "token": scene["seated_token"],  # the manage page and what hangs off it
        "webinar_id": scene["past"].id,  # registrations, attendance and feedback to show
        "series_id": scene["series"].id,
        "theme_id": scene["theme"].id,
        "presenter_id": scene["presenter"].id,
        "presentation_id": scene["presentation"].id,
        "organisation_id": scene["organisation"].id,
        "question_id": scene["question"].id,
        "code": scene["certificate"].code,
        "version": "missed",
        "language": "fr",
    }


def every_page(app, scene) -> list[str]:
    values = argument_values(scene)
    paths = []
    for rule in app.url_map.iter_rules():
        if "GET" not in rule.methods or not is_page(rule) or "material_id" in rule.arguments:
            continue  # (materials are file downloads, not pages)
        arguments = {}
        for name in rule.arguments:
            key = (rule.endpoint, name) if (rule.endpoint, name) in values else name
            assert key in values, f"no value for <{name}> of {rule.endpoint}: add one to argument_values"
            arguments[name] = values[key]
        with app.test_request_context():
            from flask import url_for
            paths.append(url_for(rule.endpoint, **arguments))
    return sorted(set(paths))


def test_every_french_page_is_punctuated_the_canadian_way(app, client, scene):
    sign_in(client, scene["admin"])
    pages = every_page(app, scene)
    assert len(pages) >= 35
    faults = {}
    for path in pages:
        response = client.get("/fr" + path, follow_redirects=True)
        assert response.status_code == 200, (path, response.status_code)
        html = response.get_data(as_text=True)
        assert '<html lang="fr">' in html, path
        found = typography_faults(FrenchText.of(html))
        if found:
            faults[path] = found
    assert not faults, "\n".join(f"{path}: {found}" for path, found in faults.items())


def test_form_errors_in_french_are_punctuated_the_canadian_way(client, scene):
    form = client.get("/fr/register/a-venir").get_data(as_text=True)
    refused = client.post("/fr/register/a-venir", data={"csrf_token": csrf_token_from(form), "email": "x"})
    assert refused.status_code == 422
    text = FrenchText.of(refused.get_data(as_text=True))
    assert "Nom complet" in text and typography_faults(text) == []
    feedback = client.get(f"/fr/feedback/{scene['attended_token']}").get_data(as_text=True)
    refused = client.post(f"/fr/feedback/{scene['attended_token']}", data={"csrf_token": csrf_token_from(feedback)})
    assert refused.status_code == 422
    text = FrenchText.of(refused.get_data(as_text=True))
    assert "webinaire" in text and typography_faults(text) == []


def email_kinds() -> set[str]:
    return {p.stem for p in EMAIL_TEMPLATES.glob("*.txt") if not p.stem.startswith("_") and p.stem != "layout"}


def test_every_french_email_is_punctuated_the_canadian_way(app, client, scene):
    ahead, past = scene["ahead"], scene["past"]
    for email in ("premiere@example.org", "deuxieme@example.org", "premiere@example.org"):
        form = client.get("/fr/register/a-venir").get_data(as_text=True)
        client.post("/fr/register/a-venir", data={
            "csrf_token": csrf_token_from(form), "full_name": "Anne Roy", "email": email, "organisation_name": "",
            "sector": "education", "region": "QC", "preferred_language": "fr", "accessibility_needs": "",
            "consent": "y"})
    db.session.expire_all()
    seated = registration_rules.find_by_token(scene["seated_token"])
    registration_rules.cancel_registration(seated)  # frees the seat: the waitlisted one is promoted
    for registration in db.session.scalars(select(Registration).where(Registration.webinar_id == ahead.id)):
        if registration.status.value == "confirmed":
            registration_rules.queue_reminder(registration)
    attended = registration_rules.find_by_token(scene["attended_token"])
    feedback_rules.queue_invitation(attended, feedback_rules.feedback_window(past))
    programme_editing.reschedule(ahead, ahead.starts_at + timedelta(hours=1), ahead.duration_minutes)
    db.session.commit()

    sign_in(client, scene["admin"])
    page = client.get(f"/fr/organiser/webinars/{ahead.id}/message").get_data(as_text=True)
    sent = client.post(f"/fr/organiser/webinars/{ahead.id}/message", data={
        "csrf_token": csrf_token_from(page), "audience": "all", "subject": "Rappel amical",
        "body": "Au plaisir de vous voir.", "confirmed": "yes"})
    assert sent.status_code == 302
    programme_editing.cancel_webinar(ahead, "Nous devons annuler.")
    db.session.commit()

    # Who may attend: a registration awaiting approval, then declined; an invitation.
    vetted = make_webinar(series=scene["series"], slug="sur-approbation", title="Séance réservée",
                          audience=WebinarAudience.APPROVAL, starts_at=now() + timedelta(days=20))
    db.session.commit()
    form = client.get("/fr/register/sur-approbation").get_data(as_text=True)
    client.post("/fr/register/sur-approbation", data={
        "csrf_token": csrf_token_from(form), "full_name": "Anne Roy", "email": "attente@example.org",
        "organisation_name": "", "sector": "education", "region": "QC", "preferred_language": "fr",
        "accessibility_needs": "", "consent": "y"})
    waiting = db.session.scalars(select(Registration).where(Registration.webinar_id == vetted.id)).one()
    registration_rules.decline(waiting, DeclineReason.NOT_ELIGIBLE, "Merci de votre intérêt.")
    invitations.invite(vetted, [invitations.Invitee("Inès Roy", "ines@example.org")])
    # After the webinar: the follow-up (attended and missed) and the feedback reminder.
    followup.send_for(past)
    feedback_reminders.remind(past, now=feedback_rules.feedback_window(past).closes_at - timedelta(days=1))
    db.session.commit()

    messages = db.session.scalars(select(OutboxMessage)).all()
    assert {m.kind for m in messages} >= email_kinds(), email_kinds() - {m.kind for m in messages}
    faults = {}
    for message in messages:
        text = "\n".join([message.subject, message.body_text, FrenchText.of(message.body_html or "")])
        if message.kind == "invitation":  # English, then French: only the French half is French
            text = message.body_text.split("----------", 1)[1]
        found = typography_faults(text)
        if found:
            faults[f"{message.kind} to {message.recipient}"] = found
    assert not faults, "\n".join(f"{kind}: {found}" for kind, found in faults.items())
