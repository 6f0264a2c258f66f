"""`flask demo load`: the seed series reproduced faithfully, idempotently, and its fake sign-ups."""

from __future__ import annotations

from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo

import pytest
import sqlalchemy as sa
import time_machine

from portal.extensions import db
from portal.models import (
    FeedbackResponse,
    FeedbackSubmission,
    Objective,
    Organisation,
    PresentationRating,
    Presenter,
    Registration,
    RegistrationStatus,
    Series,
    Webinar,
    WebinarStatus,
)
from portal.models.events import presentation_presenters
from portal.services import registration as registration_service
from portal.services.demo import is_demo_email, load_demo_series

TORONTO = ZoneInfo("America/Toronto")
SERIES_SLUG = "combatting-online-child-sexual-exploitation-2022-2023"

WEBINAR_TITLES = [
    "The Use of Technology in Combatting Online Child Sexual Exploitation",
    "Sextortion and Emerging Trends",
    "The Role of Civil Society Organizations and Academia in the Fight Against Online Child Sexual Exploitation",
]
PROGRAMME = [
    [
        ("AI for Safer Children's Global Hub: The Platform for Law Enforcement to Leverage AI to Fight OCSE",
         ["Maria Eira"]),
        ("Using Griffeye Analyze DI Pro to Streamline Investigations", ["Sherry Torres"]),
        ("Project Arachnid: Industry and the Proactive Detection of CSAM", ["Lloyd Richardson"]),
    ],
    [
        ("Trends in Financial Sextortion", ["Royal Canadian Mounted Police analysts"]),
        ("Project Maverick", ["Lesley Zimmer", "Timothy (Tim) Brown"]),
        ("An Analysis of Financial Sextortion Victim Posts", ["Kelly Barker", "Jacques Marcoux"]),
    ],
    [
        ("Tackling Online Child Sexual Exploitation: A Programme of Research and Innovation", ["Simon Bailey"]),
        ("Leaving No One Behind: Taking Stock of the Latest Developments in the Area of Sexual "
         "Exploitation of Children", ["Guillaume Landry"]),
        ("Trajectories and Offending Patterns of Men Who Use the Internet to Sexually Exploit Children "
         "and Adolescents", ["Sarah Paquette"]),
    ],
]
C3P = "Canadian Centre for Child Protection"
RCMP = "Royal Canadian Mounted Police"
#: (honorific, post-nominals, is_team, [(title, unit, organisation)]) exactly as the seed writes them.
PRESENTERS = {
    "Maria Eira": (None, None, False, [
        ("Information and Technology Officer", "Centre for AI and Robotics",
         "United Nations Interregional Crime and Justice Research Institute")]),
    "Sherry Torres": (None, None, False, [
        ("Police Detective", None, None), ("Digital Forensic Examiner", None, None),
        ("UN Consultant", None, None), ("Griffeye Trainer", None, None)]),
    "Lloyd Richardson": (None, None, False, [("Director of Technology", None, C3P)]),
    "Royal Canadian Mounted Police analysts": (None, None, True, [
        ("Analysts", "National Child Exploitation Crime Centre", RCMP),
        ("Analysts", "Sensitive and Specialized Investigative Services", RCMP)]),
    "Lesley Zimmer": ("Detective", None, False, [(None, "Internet Child Exploitation Unit", "Toronto Police Service")]),
    "Timothy (Tim) Brown": ("Detective Staff Sergeant", None, False, [
        ("Ontario Provincial Strategy Coordinator", None, "Ontario Provincial Police")]),
    "Kelly Barker": (None, None, False, [("Research Analyst", None, C3P)]),
    "Jacques Marcoux": (None, None, False, [("Director of Research and Analytics", None, C3P)]),
    "Simon Bailey": (None, "CBE, QPM, DL", False, [(None, None, "Anglia Ruskin University")]),
    "Guillaume Landry": (None, None, False, [("Executive Director", None, "ECPAT International")]),
    "Sarah Paquette": ("Dr.", None, False, [
        ("Scientific Researcher", "Service de la coordination des enquêtes sur les crimes majeurs",
         "Sûreté du Québec")]),
}
THEMES = [
    ("OCSE is a complex crime that is still not yet fully understood.", [
        "OCSE takes various forms that impact victims and survivors in different but harmful ways.",
        "Despite the leaps made in studying its complexity, gaps remain in understanding OCSE, including how "
        "boys are victimized.",
        "These gaps can be filled by listening to the voices and stories of victims and survivors.",
    ]),
    ("There are benefits and drawbacks to using technology to combat OCSE.", [
        "Technology unlocks massive potential for detecting and investigating OCSE, especially when considering "
        "the speed and capacity at which it can scan and sort online content.",
        "At the same time, technology makes mistakes that can only be corrected by humans. It also poses privacy "
        "concerns and concerns surrounding misinformation when data is not properly vetted and communicated.",
    ]),
    ("Awareness and education are essential components in preventing OCSE.", [
        "Prevention is an important pillar of addressing OCSE that involves training and education among all "
        "stakeholders, including parents, caregivers, schools and law enforcement actors.",
        "At the core of prevention should be the message that victims and survivors deserve support and are "
        "never to blame for the violence that they endure.",
    ]),
]


def load(**options):
    summary = load_demo_series(**options)
    db.session.commit()
    db.session.expire_all()
    return summary


def the_series() -> Series:
    return db.session.scalars(db.select(Series).where(Series.slug == SERIES_SLUG)).one()


def webinars() -> list[Webinar]:
    return list(db.session.scalars(db.select(Webinar).order_by(Webinar.starts_at)))


def dump() -> dict[str, list[tuple]]:
    """Every row of every table, in a stable order: two equal dumps mean nothing changed."""
    rows = {}
    for table in db.metadata.sorted_tables:
        columns = list(table.columns)
        key = list(table.primary_key.columns)
        result = db.session.execute(sa.select(*columns).order_by(*key)).all()
        rows[table.name] = [tuple(row) for row in result]
    return rows


def local(moment: datetime) -> datetime:
    return moment.astimezone(TORONTO)


# --- the series as the seed states it ------------------------------------------------------

def test_series_title_host_partners_and_text(app):
    load()
    series = the_series()
    assert series.title == "Combatting Online Child Sexual Exploitation"
    assert series.subtitle == "Public Safety Canada Webinar Series 2023"
    assert series.host.name == "Public Safety Canada"
    assert sorted(p.name for p in series.partners) == sorted(["Justice Canada", RCMP, C3P])
    assert series.timezone == "America/Toronto"
    assert series.published is True
    paragraphs = series.summary.split("\n\n")
    assert paragraphs[0].startswith("Public Safety Canada leads the National Strategy for the Protection of "
                                    "Children from Sexual Exploitation on the Internet, launched in 2004")
    # The seed's "The objectives of these webinars were to:" introduces a list it never gives: left out.
    assert paragraphs[1] == ("In 2022-2023, Public Safety hosted a three-part webinar series on combatting "
                             "online child sexual exploitation.")
    assert "were to" not in series.summary
    assert paragraphs[2] == ("This report provides a summary of the webinar 2023 series titled "
                             "\u201cCombatting Online Child Sexual Exploitation.\u201d")
    remarks = series.closing_remarks.split("\n\n")
    assert len(remarks) == 4
    assert remarks[0].startswith("Public Safety Canada would like to thank the presenters and participants")
    assert remarks[-1].endswith("to combat the complex crime of online child sexual exploitation.")


def test_seed_lists_no_objectives_so_none_are_invented(app):
    load()
    assert db.session.scalar(sa.select(sa.func.count()).select_from(Objective)) == 0


def test_three_key_themes_in_order_with_every_point_verbatim(app):
    load()
    themes = [(t.heading, [p.text for p in t.points]) for t in the_series().key_themes]
    assert themes == THEMES


def test_three_webinars_on_their_dates_at_13_eastern_for_90_minutes(app):
    load()
    found = webinars()
    assert [w.title for w in found] == WEBINAR_TITLES
    assert [local(w.starts_at).date() for w in found] == [date(2022, 12, 2), date(2023, 1, 27), date(2023, 2, 24)]
    assert all(local(w.starts_at).time() == time(13, 0) for w in found)
    # Eastern Standard Time in winter: 13:00 in Toronto is 18:00 UTC.
    assert found[0].starts_at == datetime(2022, 12, 2, 18, 0, tzinfo=UTC)
    for webinar in found:
        assert webinar.duration_minutes == 90
        assert webinar.status == WebinarStatus.PUBLISHED
        assert webinar.series.slug == SERIES_SLUG
        # What the seed leaves out stays empty.
        assert webinar.capacity is None
        assert webinar.language is None
        assert webinar.description == ""
        assert webinar.highlights == ""
        assert webinar.join_url is None and webinar.recording_url is None


def test_nine_presentations_with_exact_titles_and_presenters_in_billing_order(app):
    load()
    programme = [
        [(talk.title, [p.name for p in talk.presenters]) for talk in webinar.presentations]
        for webinar in webinars()
    ]
    assert programme == PROGRAMME
    assert all(talk.abstract == "" for webinar in webinars() for talk in webinar.presentations)


def test_presenters_with_honorifics_post_nominals_roles_and_organisations(app):
    load()
    presenters = db.session.scalars(db.select(Presenter)).all()
    assert len(presenters) == 11
    found = {
        p.name: (p.honorific, p.post_nominals, p.is_team,
                 [(r.title, r.unit, r.organisation and r.organisation.name) for r in p.roles])
        for p in presenters
    }
    assert found == PRESENTERS
    assert all(p.bio == "" for p in presenters)
    by_name = {p.name: p for p in presenters}
    assert by_name["Simon Bailey"].display_name == "Simon Bailey, CBE, QPM, DL"
    assert by_name["Sarah Paquette"].display_name == "Dr. Sarah Paquette"
    assert by_name["Timothy (Tim) Brown"].display_name == "Detective Staff Sergeant Timothy (Tim) Brown"
    assert [p.name for p in presenters if p.is_team] == ["Royal Canadian Mounted Police analysts"]


def test_organisations_are_named_once_without_invented_details(app):
    load()
    organisations = db.session.scalars(db.select(Organisation)).all()
    names = [o.name for o in organisations]
    # "The Canadian Centre for Child Protection" in the seed is the same body.
    assert [n for n in names if "Canadian Centre for Child Protection" in n] == [C3P]
    assert len(names) == len(set(names)) == 10
    assert all(o.acronym is None and o.website is None for o in organisations)
    countries = {o.name: o.country for o in organisations if o.country}
    assert countries == {"Anglia Ruskin University": "United Kingdom"}


# --- idempotency -------------------------------------------------------------------------------

def test_loading_twice_changes_nothing(app):
    first = load()
    assert first.changed
    before = dump()
    second = load()
    assert not second.changed
    assert (second.webinars.created, second.webinars.updated, second.webinars.unchanged) == (0, 0, 3)
    assert dump() == before


def test_reload_restores_seed_facts_but_keeps_organiser_additions(app):
    load()
    webinar = webinars()[1]
    webinar.title = "Edited"
    webinar.highlights = "What we discussed."
    talk = webinar.presentations[1]
    links = presentation_presenters
    db.session.execute(sa.delete(links).where(links.c.presentation_id == talk.id))
    db.session.commit()
    summary = load()
    webinar = webinars()[1]
    assert webinar.title == "Sextortion and Emerging Trends"
    assert [p.name for p in webinar.presentations[1].presenters] == ["Lesley Zimmer", "Timothy (Tim) Brown"]
    assert webinar.highlights == "What we discussed."
    assert summary.webinars.updated == 1


def test_command_prints_progress_and_a_one_line_summary(app, runner):
    result = runner.invoke(args=["demo", "load"])
    assert result.exit_code == 0, result.output
    lines = result.output.strip().splitlines()
    assert len(lines) > 2
    assert lines[-1].startswith("Loaded series \u201cCombatting Online Child Sexual Exploitation\u201d: "
                                "3 webinars, 9 presentations, 11 presenters")
    again = runner.invoke(args=["demo", "load"])
    assert "(0 created, 0 updated)" in again.output.strip().splitlines()[-1]


# --- --upcoming -----------------------------------------------------------------------------------

@pytest.mark.parametrize("today", [
    datetime(2026, 11, 25, 15, 0, tzinfo=UTC),
    # 03:00 UTC is still the evening before in Toronto: "today" is the Toronto day.
    datetime(2026, 2, 20, 3, 0, tzinfo=UTC),
])
def test_upcoming_puts_the_first_webinar_two_weeks_ahead_keeping_the_gaps(app, runner, today):
    with time_machine.travel(today, tick=False):
        result = runner.invoke(args=["demo", "load", "--upcoming"])
    assert result.exit_code == 0, result.output
    db.session.expire_all()
    found = webinars()
    first_day = today.astimezone(TORONTO).date() + timedelta(days=14)
    days = [local(w.starts_at).date() for w in found]
    assert days[0] == first_day
    assert [(days[1] - days[0]).days, (days[2] - days[1]).days] == [56, 28]
    # 13:00 in Toronto every time, even when daylight saving time starts in between.
    assert all(local(w.starts_at).time() == time(13, 0) for w in found)
    for webinar in found:
        assert webinar.registration_closes_at == webinar.starts_at
        assert webinar.registration_opens_at is None or webinar.registration_opens_at < today


def test_upcoming_twice_on_the_same_day_changes_nothing(app):
    morning = datetime(2026, 11, 25, 13, 0, tzinfo=UTC)
    load(upcoming=True, now=morning)
    before = dump()
    summary = load(upcoming=True, now=morning + timedelta(hours=8))
    assert not summary.changed
    assert dump() == before


def test_loading_without_upcoming_moves_the_dates_back(app):
    load(upcoming=True)
    summary = load()
    assert summary.webinars.updated == 3
    assert local(webinars()[0].starts_at).date() == date(2022, 12, 2)


# --- --with-registrations ---------------------------------------------------------------------------

def registrations() -> list[Registration]:
    return list(db.session.scalars(db.select(Registration).order_by(Registration.id)))


def test_with_registrations_adds_a_few_hundred_clearly_fake_sign_ups(app):
    summary = load(with_registrations=True, now=datetime(2026, 1, 1, tzinfo=UTC))
    found = registrations()
    assert 300 <= len(found) <= 800
    assert summary.registrations_added == len(found)
    assert all(is_demo_email(r.email) and r.email.endswith(("@example.org", "@example.com")) for r in found)
    assert all(r.email_normalised == r.email.lower() for r in found)
    assert len({r.token_hash for r in found}) == len(found)
    # Each has the link the portal would email, so an organiser's message to one opens.
    sample = found[:: len(found) // 5]
    assert all(registration_service.find_by_token(registration_service.manage_token(r)) == r for r in sample)
    assert {r.status for r in found} == {RegistrationStatus.CONFIRMED, RegistrationStatus.CANCELLED}
    assert len({r.sector for r in found}) >= 6
    assert len({r.region for r in found}) >= 8
    by_webinar = {w.id: w for w in webinars()}
    for registration in found:
        webinar = by_webinar[registration.webinar_id]
        assert registration.created_at < webinar.starts_at
        assert registration.consented_at == registration.created_at
        if registration.status == RegistrationStatus.CANCELLED:
            assert registration.created_at <= registration.cancelled_at <= webinar.starts_at
            assert not registration.attended
    # Sign-ups spread over the weeks before each start, not bunched on one day.
    for webinar in by_webinar.values():
        days = {r.created_at.date() for r in found if r.webinar_id == webinar.id}
        assert len(days) >= 14
    # All three are past in 2026: some attended, some did not.
    attended = [r.attended for r in found if r.status == RegistrationStatus.CONFIRMED]
    assert 0.4 < sum(attended) / len(attended) < 0.85


def test_fake_feedback_for_past_webinars_is_linked_to_attendees(app):
    summary = load(with_registrations=True, now=datetime(2026, 1, 1, tzinfo=UTC))
    responses = db.session.scalars(db.select(FeedbackResponse)).all()
    assert summary.feedback_added == len(responses) > 30
    submissions = db.session.scalars(db.select(FeedbackSubmission)).all()
    assert len(submissions) == len(responses)
    by_id = {r.id: r for r in registrations()}
    talks = {w.id: {p.id for p in w.presentations} for w in webinars()}
    for submission in submissions:
        registration = by_id[submission.registration_id]
        response = submission.response
        assert registration.attended
        assert response.webinar_id == registration.webinar_id
        assert response.created_at >= registration.webinar.ends_at
        assert {r.presentation_id for r in response.presentation_ratings} == talks[response.webinar_id]
        assert 1 <= response.overall_rating <= 5
    ratings = db.session.scalar(sa.select(sa.func.count()).select_from(PresentationRating))
    assert ratings == 3 * len(responses)


def test_with_registrations_twice_adds_nothing(app, runner):
    first = runner.invoke(args=["demo", "load", "--with-registrations"])
    assert first.exit_code == 0, first.output
    assert "demo registrations" in first.output
    db.session.expire_all()
    before = dump()
    again = runner.invoke(args=["demo", "load", "--with-registrations"])
    assert again.exit_code == 0, again.output
    assert "(0 created, 0 updated)." in again.output
    db.session.expire_all()
    assert dump() == before


def test_fake_sign_ups_are_deterministic(app):
    moment = datetime(2026, 1, 1, tzinfo=UTC)
    load(with_registrations=True, now=moment)
    first = [(r.full_name, r.email, r.sector, r.region, r.status, r.attended, r.created_at) for r in registrations()]
    for table in ("feedback_submission", "presentation_rating", "feedback_response", "registration"):
        db.session.execute(sa.text(f"DELETE FROM {table}"))
    db.session.commit()
    load(with_registrations=True, now=moment)
    again = [(r.full_name, r.email, r.sector, r.region, r.status, r.attended, r.created_at) for r in registrations()]
    assert again == first


def test_upcoming_sign_ups_stop_at_now_and_carry_no_feedback(app):
    now = datetime(2026, 11, 25, 15, 0, tzinfo=UTC)
    summary = load(upcoming=True, with_registrations=True, now=now)
    found = registrations()
    assert summary.feedback_added == 0
    assert len(found) >= 50
    assert all(r.created_at <= now for r in found)
    assert not any(r.attended for r in found)
    assert db.session.scalar(sa.select(sa.func.count()).select_from(FeedbackResponse)) == 0
