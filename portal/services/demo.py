"""Load the 2022–2023 series from the seed, and optionally fake sign-ups and feedback.

Loading is idempotent: every record is looked up by its natural key (slug or
name, or position inside its parent) and updated in place, so a second load
issues no change at all. The seed's stated facts (titles, dates, people, roles,
themes, remarks) are restored on every load; fields the seed leaves empty are
only set empty when a record is first created, so an organiser's additions
(a recording link, discussion highlights, a bio) survive a reload.
"""

from __future__ import annotations

import random
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from zoneinfo import ZoneInfo

from sqlalchemy import delete, func, insert, or_

from portal.extensions import db
from portal.models import (
    FeedbackResponse,
    FeedbackSubmission,
    KeyTheme,
    Objective,
    Organisation,
    Presentation,
    PresentationRating,
    Presenter,
    PresenterRole,
    Registration,
    RegistrationStatus,
    Sector,
    Series,
    ThemePoint,
    Webinar,
    WebinarStatus,
)
from portal.models.events import presentation_presenters
from portal.models.types import utcnow
from portal.services import demo_series as seed
from portal.services.registration import link_token
from portal.services.tokens import hash_token

#: How far ahead ``--upcoming`` puts the first webinar.
UPCOMING_LEAD = timedelta(days=14)
#: Demo people only ever get addresses on these reserved domains (RFC 2606).
DEMO_EMAIL_DOMAINS = ("example.org", "example.com")

Progress = Callable[[str], None]


@dataclass
class Tally:
    created: int = 0
    updated: int = 0
    unchanged: int = 0

    def count(self, created: bool, changed: bool) -> None:
        if created:
            self.created += 1
        elif changed:
            self.updated += 1
        else:
            self.unchanged += 1

    @property
    def total(self) -> int:
        return self.created + self.updated + self.unchanged


@dataclass
class DemoSummary:
    """What a load did, for the command's closing line and for tests."""

    series_title: str = ""
    series_slug: str = ""
    organisations: Tally = field(default_factory=Tally)
    series: Tally = field(default_factory=Tally)
    webinars: Tally = field(default_factory=Tally)
    presentations: Tally = field(default_factory=Tally)
    presenters: Tally = field(default_factory=Tally)
    registrations_added: int = 0
    feedback_added: int = 0

    @property
    def changed(self) -> bool:
        tallies = (self.organisations, self.series, self.webinars, self.presentations, self.presenters)
        return any(t.created or t.updated for t in tallies) or bool(self.registrations_added or self.feedback_added)

    def line(self) -> str:
        created = sum(t.created for t in self._tallies())
        updated = sum(t.updated for t in self._tallies())
        text = (
            f"Loaded series \u201c{self.series_title}\u201d: {self.webinars.total} webinars, "
            f"{self.presentations.total} presentations, {self.presenters.total} presenters, "
            f"{self.organisations.total} organisations ({created} created, {updated} updated"
        )
        if self.registrations_added or self.feedback_added:
            text += f"; {self.registrations_added} demo registrations and {self.feedback_added} feedback responses added"
        return text + ")."

    def _tallies(self) -> tuple[Tally, ...]:
        return (self.organisations, self.series, self.webinars, self.presentations, self.presenters)


def _assign(record, **values) -> bool:
    """Set only what differs, so an unchanged record issues no UPDATE; True if anything changed."""
    changed = False
    for name, value in values.items():
        if getattr(record, name) != value:
            setattr(record, name, value)
            changed = True
    return changed


def first_start(upcoming: bool, now: datetime | None = None) -> date:
    """The first webinar's day: the seed's, or two weeks after today in the series' zone."""
    if not upcoming:
        return seed.WEBINARS[0].day
    today = (now or utcnow()).astimezone(ZoneInfo(seed.TIMEZONE)).date()
    return today + UPCOMING_LEAD


def webinar_starts(upcoming: bool, now: datetime | None = None) -> list[datetime]:
    """Start of each webinar at 13:00 in Toronto, keeping the seed's gaps in days.

    Shifting whole days (not hours) keeps 13:00 local across a daylight-saving change.
    """
    zone = ZoneInfo(seed.TIMEZONE)
    shift = first_start(upcoming, now) - seed.WEBINARS[0].day
    return [
        datetime.combine(fact.day + shift, seed.START_TIME, tzinfo=zone).astimezone(UTC)
        for fact in seed.WEBINARS
    ]


def load_demo_series(
    upcoming: bool = False,
    with_registrations: bool = False,
    now: datetime | None = None,
    progress: Progress | None = None,
) -> DemoSummary:
    """Create or bring up to date the seed's series; the caller commits.

    ``now`` is injectable for tests; ``progress`` receives one line per step.
    """
    say = progress or (lambda _line: None)
    summary = DemoSummary(series_title=seed.SERIES.title, series_slug=seed.SERIES.slug)

    say("Organisations…")
    organisations = _load_organisations(summary.organisations)
    say("Series, objectives and key themes…")
    series = _load_series(organisations, summary.series)
    say("Presenters and their roles…")
    presenters = _load_presenters(organisations, summary.presenters)
    say("Webinars and presentations…")
    webinars = _load_webinars(series, presenters, upcoming, now, summary)
    _load_site_identity()
    db.session.flush()

    if with_registrations:
        say("Demo registrations and feedback…")
        rows = add_demo_registrations(webinars, now=now)
        summary.registrations_added, summary.feedback_added = rows
    return summary


def _load_site_identity() -> None:
    """The portal wears the host's name (and only its name: no logo, flag or wordmark the
    project has no right to use), unless an administrator has already set an identity."""
    from portal.services import site_identity

    if site_identity.stored() is None:
        site_identity.save({"name_en": seed.SERIES.host, "name_fr": DEMO_HOST_FR.get(seed.SERIES.host, "")})


#: The host's name in French, as the organisation writes it.
DEMO_HOST_FR = {"Public Safety Canada": "Sécurité publique Canada"}


def _load_organisations(tally: Tally) -> dict[str, Organisation]:
    names = [fact.name for fact in seed.ORGANISATIONS]
    found = {o.name: o for o in db.session.scalars(db.select(Organisation).where(Organisation.name.in_(names)))}
    for fact in seed.ORGANISATIONS:
        organisation = found.get(fact.name)
        created = organisation is None
        if created:
            organisation = Organisation(name=fact.name)
            db.session.add(organisation)
            found[fact.name] = organisation
        # Only what the seed states: country where it gives one; acronyms and websites it never gives.
        changed = _assign(organisation, country=fact.country) if fact.country else False
        tally.count(created, changed)
    db.session.flush()
    return found


def _load_series(organisations: dict[str, Organisation], tally: Tally) -> Series:
    fact = seed.SERIES
    series = db.session.scalars(db.select(Series).where(Series.slug == fact.slug)).first()
    created = series is None
    if created:
        series = Series(slug=fact.slug)
        db.session.add(series)
    changed = _assign(
        series,
        title=fact.title,
        subtitle=fact.subtitle,
        host=organisations[fact.host],
        summary=fact.summary,
        closing_remarks=fact.closing_remarks,
        timezone=seed.TIMEZONE,
        published=True,
    )
    partners = [organisations[name] for name in fact.partners]
    if {p.id for p in series.partners} != {p.id for p in partners}:
        series.partners = partners
        changed = True
    if created:
        series.objectives = [Objective(position=i, text=text) for i, text in enumerate(fact.objectives)]
    changed |= _load_themes(series, fact.key_themes)
    tally.count(created, changed)
    db.session.flush()
    return series


def _load_themes(series: Series, themes: tuple[seed.ThemeFact, ...]) -> bool:
    changed = False
    existing = list(series.key_themes)
    for position, fact in enumerate(themes):
        if position < len(existing):
            theme = existing[position]
            changed |= _assign(theme, heading=fact.heading, position=position)
        else:
            theme = KeyTheme(position=position, heading=fact.heading)
            series.key_themes.append(theme)
            changed = True
        changed |= _load_points(theme, fact.points)
    for extra in existing[len(themes):]:
        series.key_themes.remove(extra)
        changed = True
    return changed


def _load_points(theme: KeyTheme, points: tuple[str, ...]) -> bool:
    changed = False
    existing = list(theme.points)
    for position, text in enumerate(points):
        if position < len(existing):
            changed |= _assign(existing[position], text=text, position=position)
        else:
            theme.points.append(ThemePoint(position=position, text=text))
            changed = True
    for extra in existing[len(points):]:
        theme.points.remove(extra)
        changed = True
    return changed


def _load_presenters(organisations: dict[str, Organisation], tally: Tally) -> dict[str, Presenter]:
    slugs = [fact.slug for fact in seed.PRESENTERS]
    found = {p.slug: p for p in db.session.scalars(db.select(Presenter).where(Presenter.slug.in_(slugs)))}
    for fact in seed.PRESENTERS:
        presenter = found.get(fact.slug)
        created = presenter is None
        if created:
            presenter = Presenter(slug=fact.slug, bio="")
            db.session.add(presenter)
            found[fact.slug] = presenter
        changed = _assign(
            presenter,
            name=fact.name,
            honorific=fact.honorific,
            post_nominals=fact.post_nominals,
            is_team=fact.is_team,
        )
        changed |= _load_roles(presenter, fact.roles, organisations)
        tally.count(created, changed)
    db.session.flush()
    return found


def _load_roles(presenter: Presenter, roles: tuple[seed.RoleFact, ...], organisations) -> bool:
    changed = False
    existing = list(presenter.roles)
    for position, fact in enumerate(roles):
        organisation = organisations[fact.organisation] if fact.organisation else None
        if position < len(existing):
            changed |= _assign(
                existing[position], position=position, title=fact.title, unit=fact.unit,
                organisation=organisation,
            )
        else:
            presenter.roles.append(
                PresenterRole(position=position, title=fact.title, unit=fact.unit, organisation=organisation)
            )
            changed = True
    for extra in existing[len(roles):]:
        presenter.roles.remove(extra)
        changed = True
    return changed


def _load_webinars(series, presenters, upcoming: bool, now: datetime | None, summary: DemoSummary) -> list[Webinar]:
    starts = webinar_starts(upcoming, now)
    slugs = [fact.slug for fact in seed.WEBINARS]
    found = {w.slug: w for w in db.session.scalars(db.select(Webinar).where(Webinar.slug.in_(slugs)))}
    webinars = []
    for fact, starts_at in zip(seed.WEBINARS, starts, strict=True):
        webinar = found.get(fact.slug)
        created = webinar is None
        if created:
            webinar = Webinar(
                slug=fact.slug, description="", highlights="", language=None, capacity=None,
                registration_opens_at=None,
            )
            db.session.add(webinar)
        changed = _assign(
            webinar,
            series=series,
            title=fact.title,
            starts_at=starts_at,
            duration_minutes=seed.DURATION_MINUTES,
            status=WebinarStatus.PUBLISHED,
            # Sign-ups close when the session starts; the seed says nothing of when they opened.
            registration_closes_at=starts_at,
        )
        if webinar.registration_opens_at is not None and webinar.registration_opens_at >= starts_at:
            webinar.registration_opens_at = None
            changed = True
        summary.webinars.count(created, changed)
        db.session.flush()
        _load_presentations(webinar, fact.presentations, presenters, summary.presentations)
        webinars.append(webinar)
    return webinars


def _load_presentations(webinar: Webinar, facts, presenters: dict[str, Presenter], tally: Tally) -> None:
    existing = list(webinar.presentations)
    for position, fact in enumerate(facts):
        created = position >= len(existing)
        if created:
            presentation = Presentation(position=position, title=fact.title, abstract="")
            webinar.presentations.append(presentation)
            changed = True
        else:
            presentation = existing[position]
            changed = _assign(presentation, title=fact.title, position=position)
        db.session.flush()
        changed |= _link_presenters(presentation, [presenters[slug] for slug in fact.presenters])
        tally.count(created, changed)
    for extra in existing[len(facts):]:
        webinar.presentations.remove(extra)
    db.session.flush()


def _link_presenters(presentation: Presentation, presenters: list[Presenter]) -> bool:
    """Write the link rows ourselves: the ORM would leave every ``position`` at 0."""
    table = presentation_presenters
    wanted = [(p.id, i) for i, p in enumerate(presenters)]
    current = db.session.execute(
        db.select(table.c.presenter_id, table.c.position)
        .where(table.c.presentation_id == presentation.id)
        .order_by(table.c.position)
    ).all()
    if [tuple(row) for row in current] == wanted:
        return False
    db.session.execute(delete(table).where(table.c.presentation_id == presentation.id))
    db.session.execute(
        insert(table),
        [{"presentation_id": presentation.id, "presenter_id": pid, "position": i} for pid, i in wanted],
    )
    db.session.expire(presentation, ["presenters"])
    return True


# --- Fake sign-ups and feedback -------------------------------------------------------------

FIRST_NAMES = (
    "Alex", "Sam", "Jordan", "Taylor", "Morgan", "Casey", "Riley", "Jamie", "Avery", "Quinn",
    "Charlie", "Dana", "Élise", "François", "Amélie", "Noah", "Priya", "Wei", "Fatima", "Omar",
    "Liam", "Chloé", "Mateo", "Aisha", "Hiroshi", "Sofia", "Kwame", "Mia", "Luc", "Nadia",
)
LAST_NAMES = (
    "Example", "Sample", "Placeholder", "Testperson", "Demo", "Specimen", "Mockton", "Fakeley",
    "Tremblay-Demo", "Gagnon-Sample", "Nguyen-Test", "Singh-Example",
)
SECTOR_WEIGHTS = {
    Sector.LAW_ENFORCEMENT: 30,
    Sector.EDUCATION: 14,
    Sector.CHILD_PROTECTION: 16,
    Sector.HEALTH_SOCIAL: 9,
    Sector.GOVERNMENT: 13,
    Sector.INDUSTRY: 6,
    Sector.ACADEMIA: 6,
    Sector.PARENT: 4,
    Sector.OTHER: 2,
}
SECTOR_ORGANISATIONS = {
    Sector.LAW_ENFORCEMENT: ("Example Police Service", "Sample Regional Police", "Demo Provincial Police"),
    Sector.EDUCATION: ("Example School Board", "Sample Secondary School", "Demo College"),
    Sector.CHILD_PROTECTION: ("Example Child Advocacy Centre", "Sample Youth Helpline", "Demo Family Services"),
    Sector.HEALTH_SOCIAL: ("Example Health Authority", "Sample Community Clinic"),
    Sector.GOVERNMENT: ("Example Ministry", "Sample Municipal Office", "Demo Federal Department"),
    Sector.INDUSTRY: ("Example Tech Inc.", "Sample Platform Ltd."),
    Sector.ACADEMIA: ("Example University", "Sample Research Institute"),
    Sector.PARENT: (None,),
    Sector.OTHER: ("Example Association", None),
}
#: Stored as the registration form's codes (``REGION_LABELS``), as a real sign-up would be;
#: the dashboard and the CSV turn them into words.
REGION_WEIGHTS = {
    "ON": 32, "QC": 18, "BC": 11, "AB": 10, "MB": 4, "SK": 4, "NS": 4, "NB": 3, "NL": 2,
    "PE": 1, "YT": 1, "NT": 1, "NU": 1, "outside": 6,
}
#: Sign-ups aimed at each webinar over its whole window (fewer appear before "now").
TARGETS = (210, 180, 150)
#: The series is taken as announced this long before its first webinar; sign-ups start then.
ANNOUNCED_BEFORE = timedelta(days=42)
CANCEL_SHARE = 0.08
ATTEND_SHARE = 0.64
FEEDBACK_SHARE = 0.4
ACCESSIBILITY_NOTES = ("Live captions, please.", "Sous-titres en français, s.v.p.", "Screen reader user.")
MOST_USEFUL = (
    "The case examples made the trends concrete.",
    "Hearing how the tools fit into real investigations.",
    "The practical prevention advice I can share with colleagues.",
    "Les exemples concrets et la période de questions.",
    "",
)
IMPROVEMENTS = ("More time for questions.", "Share the slides afterwards.", "A shorter introduction.", "", "")
TOPICS = ("Support for victims and survivors.", "Working with industry.", "Prevention in schools.", "", "")


def is_demo_email(email: str | None) -> bool:
    return bool(email) and email.rsplit("@", 1)[-1].lower() in DEMO_EMAIL_DOMAINS


def _has_demo_registrations(webinar: Webinar) -> bool:
    demo = or_(*(Registration.email_normalised.like(f"%@{domain}") for domain in DEMO_EMAIL_DOMAINS))
    statement = db.select(func.count()).select_from(Registration).where(Registration.webinar_id == webinar.id, demo)
    return db.session.scalar(statement) > 0


def add_demo_registrations(webinars: list[Webinar], now: datetime | None = None) -> tuple[int, int]:
    """Clearly fake sign-ups (and feedback for past webinars); returns (registrations, responses).

    Deterministic for a given schedule (a fixed random seed per webinar), and a
    webinar that already has demo sign-ups is skipped, so running it again adds nothing.
    """
    now = now or utcnow()
    announced = min(w.starts_at for w in webinars) - ANNOUNCED_BEFORE
    added = responses = 0
    for index, webinar in enumerate(webinars):
        if _has_demo_registrations(webinar):
            continue
        rng = random.Random(f"demo-registrations:{webinar.slug}")
        target = TARGETS[index % len(TARGETS)]
        registrations = _fake_registrations(rng, webinar, target, announced, now)
        db.session.add_all(registrations)
        db.session.flush()
        added += len(registrations)
        if webinar.ends_at <= now:
            responses += _fake_feedback(rng, webinar, registrations, now)
    return added, responses


def _signup_times(rng: random.Random, count: int, opens: datetime, closes: datetime) -> list[datetime]:
    """A realistic curve: a burst after the announcement, a steady trickle, a rush in the last week."""
    window = (closes - opens).total_seconds()
    times = []
    for _ in range(count):
        kind = rng.random()
        if kind < 0.3:
            offset = min(rng.expovariate(1 / (4 * 86400)), window)
        elif kind < 0.7:
            offset = rng.uniform(0, window)
        else:
            offset = max(window - rng.expovariate(1 / (2.5 * 86400)), 0)
        times.append(opens + timedelta(seconds=int(offset)))
    return sorted(times)


def _fake_registrations(rng, webinar: Webinar, target: int, announced: datetime, now: datetime) -> list[Registration]:
    closes = webinar.starts_at - timedelta(minutes=5)
    past = webinar.ends_at <= now
    sectors, sector_weights = zip(*SECTOR_WEIGHTS.items(), strict=True)
    regions, region_weights = zip(*REGION_WEIGHTS.items(), strict=True)
    registrations = []
    for number, created_at in enumerate(_signup_times(rng, target, announced, closes), start=1):
        if created_at > now:
            continue  # the future has not signed up yet
        first, last = rng.choice(FIRST_NAMES), rng.choice(LAST_NAMES)
        sector = rng.choices(sectors, sector_weights)[0]
        region = rng.choices(regions, region_weights)[0]
        domain = DEMO_EMAIL_DOMAINS[number % 2]
        email = f"{_ascii(first)}.{_ascii(last)}.{number}@{domain}"
        status = RegistrationStatus.CONFIRMED
        cancelled_at = None
        if rng.random() < CANCEL_SHARE:
            status = RegistrationStatus.CANCELLED
            cancelled_at = min(created_at + timedelta(hours=rng.randint(2, 24 * 10)), closes, now)
        registrations.append(Registration(
            webinar_id=webinar.id,
            full_name=f"{first} {last}",
            email=email,
            email_normalised=email.lower(),
            organisation_name=rng.choice(SECTOR_ORGANISATIONS[sector]),
            sector=sector,
            region=region,
            preferred_language="fr" if region == "QC" and rng.random() < 0.8 else "en",
            accessibility_needs=rng.choice(ACCESSIBILITY_NOTES) if rng.random() < 0.04 else None,
            consented_at=created_at,
            status=status,
            attended=past and status == RegistrationStatus.CONFIRMED and rng.random() < ATTEND_SHARE,
            # The link the portal would email them, so an organiser's message to a demo person opens.
            token_hash=hash_token(link_token(webinar.id, email.lower(), created_at)),
            created_at=created_at,
            updated_at=cancelled_at or created_at,
            cancelled_at=cancelled_at,
        ))
    return registrations


def _ascii(name: str) -> str:
    table = str.maketrans("éèçÉ", "eecE")
    return name.translate(table).lower().replace(" ", "-")


def _fake_feedback(rng, webinar: Webinar, registrations: list[Registration], now: datetime) -> int:
    presentations = list(webinar.presentations)
    answers: list[tuple[Registration, FeedbackResponse]] = []
    for registration in registrations:
        if not registration.attended or rng.random() >= FEEDBACK_SHARE:
            continue
        answered = min(webinar.ends_at + timedelta(hours=rng.randint(1, 24 * 10)), now)
        overall = rng.choices((1, 2, 3, 4, 5), (1, 3, 12, 45, 39))[0]
        answers.append((registration, FeedbackResponse(
            webinar_id=webinar.id,
            overall_rating=overall,
            relevance=rng.choices((None, 2, 3, 4, 5), (5, 4, 16, 40, 35))[0],
            most_useful=rng.choice(MOST_USEFUL),
            improvements=rng.choice(IMPROVEMENTS),
            topics_wanted=rng.choice(TOPICS),
            quote_consent=rng.random() < 0.5,
            contact_consent=rng.random() < 0.3,
            created_at=answered,
            updated_at=answered,
            presentation_ratings=[
                PresentationRating(presentation_id=p.id, rating=max(1, min(5, overall + rng.choice((-1, 0, 0, 1)))))
                for p in presentations
            ],
        )))
    db.session.add_all(response for _registration, response in answers)
    db.session.flush()
    db.session.add_all(
        FeedbackSubmission(registration_id=registration.id, response_id=response.id,
                           submitted_at=response.created_at)
        for registration, response in answers
    )
    db.session.flush()
    return len(answers)
