"""Public pages: what a visitor sees, what stays hidden, and what no URL can break."""

from __future__ import annotations

import re
from datetime import UTC, datetime, timedelta
from html import unescape

import pytest

from portal.extensions import db
from portal.models import KeyTheme, Objective, ThemePoint, WebinarLanguage, WebinarStatus
from tests.factories import (
    make_organisation,
    make_presentation,
    make_presenter,
    make_series,
    make_webinar,
    now,
)

HELD = datetime(2022, 12, 2, 18, 0, tzinfo=UTC)  # 13:00 in Toronto


def text_of(response) -> str:
    """The page as a reader hears it: tags dropped, entities and spaces normalised."""
    html = response.get_data(as_text=True)
    html = re.sub(r"<(script|style)\b.*?</\1>", " ", html, flags=re.S)
    plain = unescape(re.sub(r"<[^>]+>", " ", html))
    return re.sub(r"\s+", " ", plain.replace("\u202f", " ").replace("\xa0", " "))


def page(client, path: str, status: int = 200, **headers):
    """The page a browser ends on (a visitor who prefers French is led to ``/fr/…``)."""
    response = client.get(path, headers=headers, follow_redirects=status == 200)
    assert response.status_code == status, (path, response.status_code)
    return response


@pytest.fixture
def programme(app):
    """A small published series: one past webinar with two talks, one ahead, one cancelled."""
    host = make_organisation(name="Public Safety Canada", acronym="PS")
    partner = make_organisation(name="Canadian Centre for Child Protection")
    series = make_series(slug="ocse", title="Combatting Online Child Sexual Exploitation",
                         subtitle="Public Safety Canada Webinar Series 2023", host=host,
                         summary="A three-part series.\n\nSecond paragraph of the summary.",
                         closing_remarks="Thank you to the presenters.")
    series.partners.append(partner)
    series.key_themes.extend([
        KeyTheme(position=0, heading="OCSE is a complex crime.",
                 points=[ThemePoint(position=0, text="It takes various forms."),
                         ThemePoint(position=1, text="Gaps remain.")]),
        KeyTheme(position=1, heading="Technology has benefits and drawbacks.",
                 points=[ThemePoint(position=0, text="Technology makes mistakes.")]),
    ])
    past = make_webinar(series, slug="technology", title="The Use of Technology", starts_at=HELD,
                        recording_url="https://video.example/rec", materials_public=True,
                        language=WebinarLanguage.BILINGUAL,
                        highlights="Participants asked about privacy.\n\nThey also asked about training.",
                        description="How tools help investigators.")
    ahead = make_webinar(series, slug="sextortion", title="Sextortion and Emerging Trends",
                         starts_at=now() + timedelta(days=20))
    cancelled = make_webinar(series, slug="called-off", title="A Webinar Called Off",
                             starts_at=now() + timedelta(days=40), status=WebinarStatus.CANCELLED)
    eira = make_presenter(organisation=make_organisation(name="UNICRI"), slug="maria-eira",
                          name="Maria Eira", title="Information and Technology Officer")
    paquette = make_presenter(organisation=make_organisation(name="Sûreté du Québec"), slug="sarah-paquette",
                              name="Sarah Paquette", honorific="Dr.", title="Scientific Researcher",
                              bio="Researches offending trajectories.")
    bailey = make_presenter(organisation=make_organisation(name="Anglia Ruskin University", country="United Kingdom"),
                            slug="simon-bailey", name="Simon Bailey", post_nominals="CBE, QPM, DL", title=None)
    team = make_presenter(organisation=make_organisation(name="Royal Canadian Mounted Police"), slug="rcmp-analysts",
                          name="Analysts from the National Child Exploitation Crime Centre", is_team=True, title=None)
    team.roles[0].unit = "National Child Exploitation Crime Centre"
    make_presentation(past, [eira], title="AI for Safer Children's Global Hub", position=0)
    make_presentation(past, [paquette, bailey], title="Trajectories and Offending Patterns", position=1)
    make_presentation(ahead, [team], title="Trends in Financial Sextortion", position=0)
    make_presentation(cancelled, [eira], title="A talk that will not happen", position=0)
    db.session.commit()
    return {"series": series, "past": past, "ahead": ahead, "cancelled": cancelled}


@pytest.fixture
def drafts(programme):
    """Things the public must never see, next to the published programme."""
    draft = make_webinar(programme["series"], slug="secret-draft", title="Unannounced Draft Webinar",
                         status=WebinarStatus.DRAFT)
    hidden_series = make_series(slug="hidden-series", title="Hidden Series Title", published=False)
    of_hidden = make_webinar(hidden_series, slug="of-hidden-series", title="Webinar Of Hidden Series")
    secret_speaker = make_presenter(slug="secret-speaker", name="Secret Speaker")
    make_presentation(draft, [secret_speaker], title="Draft Talk Title")
    eira = db.session.scalars(db.select(type(secret_speaker)).filter_by(slug="maria-eira")).one()
    make_presentation(of_hidden, [eira], title="Hidden Talk Of Maria")
    db.session.commit()


PUBLIC_PAGES = ["/", "/webinars/", "/webinars/technology", "/webinars/sextortion", "/webinars/called-off",
                "/presenters/", "/presenters/maria-eira", "/presenters/rcmp-analysts", "/series/ocse",
                "/series/ocse/report", "/privacy", "/accessibility"]


@pytest.mark.parametrize("path", PUBLIC_PAGES)
def test_every_public_page_renders_in_the_base_layout(client, programme, path):
    html = page(client, path).get_data(as_text=True)
    assert '<html lang="en">' in html
    assert 'href="#main"' in html and '<main id="main"' in html
    assert "<header" in html and "<footer" in html
    # The Content-Security-Policy forbids inline styles and scripts: none may slip in.
    assert "style=" not in html
    assert re.search(r"<script(?![^>]*\bsrc=)", html) is None


def test_home_shows_current_series_upcoming_and_past(client, programme):
    text = text_of(page(client, "/"))
    assert "Combatting Online Child Sexual Exploitation" in text
    assert "A three-part series." in text
    upcoming, past = text.split("Upcoming webinars")[1].split("Past webinars")
    assert "Sextortion and Emerging Trends" in upcoming and "The Use of Technology" not in upcoming
    assert "The Use of Technology" in past and "Recording available" in past
    assert "Recording available" not in upcoming
    assert "A Webinar Called Off" in upcoming and "Cancelled" in upcoming


def test_home_without_any_series(client, app):
    assert "No upcoming webinars are announced yet." in text_of(page(client, "/"))


def test_webinar_list_has_upcoming_and_past_sections(client, programme):
    text = text_of(page(client, "/webinars/"))
    upcoming, past = text.split("Upcoming webinars")[1].split("Past webinars")
    assert upcoming.index("Sextortion and Emerging Trends") < upcoming.index("A Webinar Called Off")
    assert "The Use of Technology" in past


def test_webinar_detail(client, programme):
    response = page(client, "/webinars/technology")
    html, text = response.get_data(as_text=True), text_of(response)
    assert "Friday, December 2, 2022, 1:00 PM–2:30 PM Eastern Standard Time" in text
    match = re.search(r'<time datetime="2022-12-02T18:00:00Z" data-local="([^"]+)"', html)
    assert match, "a <time> element the script can read"
    assert re.search(rf'<p id="{match.group(1)}"[^>]*data-prefix="In your time zone:"[^>]*hidden', html)
    # Presentations in order, each with presenters and their roles.
    assert text.index("AI for Safer Children's Global Hub") < text.index("Trajectories and Offending Patterns")
    assert "Maria Eira Information and Technology Officer, UNICRI" in text
    assert "Dr. Sarah Paquette Scientific Researcher, Sûreté du Québec" in text
    assert "Simon Bailey, CBE, QPM, DL" in text
    assert 'href="/presenters/sarah-paquette"' in html
    assert "Bilingual (English and French)" in text
    assert "How tools help investigators." in text
    assert 'href="/webinars/technology.ics"' in html
    assert 'href="https://video.example/rec"' in html
    assert "Discussion highlights" in text and "They also asked about training." in text
    # Past: nobody can register any more.
    assert "/register/technology" not in html


def test_upcoming_webinar_offers_registration_and_omits_empty_sections(client, programme):
    response = page(client, "/webinars/sextortion")
    html, text = response.get_data(as_text=True), text_of(response)
    assert 'href="/register/sextortion"' in html
    assert "Discussion highlights" not in text and "recording" not in text.lower()
    assert "Analysts from the National Child Exploitation Crime Centre" in text
    assert "National Child Exploitation Crime Centre, Royal Canadian Mounted Police" in text


def test_french_times_are_written_the_canadian_way(client, programme):
    """The French interface is Canada's: "13 h 00", "heure normale de l'Est", not France's "13:00"."""
    french = text_of(page(client, "/webinars/technology", **{"Accept-Language": "fr"}))
    assert "vendredi 2 décembre 2022, 13 h 00–14 h 30 heure normale de l’Est" in french
    assert "13:00" not in french and "nord-américain" not in french


def test_summer_dates_name_the_summer_zone(client, programme):
    make_webinar(programme["series"], slug="summer", starts_at=datetime(2023, 6, 1, 17, 0, tzinfo=UTC))
    db.session.commit()
    assert "1:00 PM–2:30 PM Eastern Daylight Time" in text_of(page(client, "/webinars/summer"))


def test_cancelled_webinar_stays_visible_marked_cancelled(client, programme):
    response = page(client, "/webinars/called-off")
    assert "Cancelled" in text_of(response)
    assert "This webinar has been cancelled." in text_of(response)
    assert "/register/called-off" not in response.get_data(as_text=True)


def test_presenter_index_and_page(client, programme):
    index = text_of(page(client, "/presenters/"))
    for name in ("Maria Eira", "Dr. Sarah Paquette", "Simon Bailey, CBE, QPM, DL",
                 "Analysts from the National Child Exploitation Crime Centre"):
        assert name in index
    text = text_of(page(client, "/presenters/sarah-paquette"))
    assert "Dr. Sarah Paquette" in text
    assert "Scientific Researcher, Sûreté du Québec" in text
    assert "Researches offending trajectories." in text
    assert "Trajectories and Offending Patterns" in text and "The Use of Technology" in text
    assert "Friday, December 2, 2022" in text
    bailey = text_of(page(client, "/presenters/simon-bailey"))
    assert "Simon Bailey , CBE, QPM, DL" in bailey or "Simon Bailey, CBE, QPM, DL" in bailey
    assert "Anglia Ruskin University (United Kingdom)" in bailey


def test_presenter_page_lists_every_webinar_they_spoke_at(client, programme):
    text = text_of(page(client, "/presenters/maria-eira"))
    assert "AI for Safer Children's Global Hub" in text and "A talk that will not happen" in text
    assert "The Use of Technology" in text and "A Webinar Called Off" in text


def test_team_presenter_reads_as_a_team(client, programme):
    text = text_of(page(client, "/presenters/rcmp-analysts"))
    assert "A team of presenters" in text and "Presentations by this team" in text
    assert "Trends in Financial Sextortion" in text


def test_series_page(client, programme):
    text = text_of(page(client, "/series/ocse"))
    assert "Public Safety Canada Webinar Series 2023" in text
    assert "Hosted by Public Safety Canada" in text
    assert "Canadian Centre for Child Protection" in text
    # The seed has no objectives: the section is left out rather than shown empty.
    assert "Objectives" not in text
    assert text.index("OCSE is a complex crime.") < text.index("It takes various forms.") \
        < text.index("Gaps remain.") < text.index("Technology has benefits and drawbacks.")
    assert text.index("The Use of Technology") < text.index("Sextortion and Emerging Trends")


def test_series_page_shows_objectives_when_there_are_some(client, programme):
    programme["series"].objectives.extend([Objective(position=1, text="Second aim"),
                                           Objective(position=0, text="First aim")])
    db.session.commit()
    text = text_of(page(client, "/series/ocse"))
    assert text.index("Objectives") < text.index("First aim") < text.index("Second aim")


def test_series_report(client, programme):
    response = page(client, "/series/ocse/report")
    html, text = response.get_data(as_text=True), text_of(response)
    assert "Summary report" in text and "Second paragraph of the summary." in text
    assert "Key themes from the webinar series" in text and "Technology makes mistakes." in text
    assert "Webinar 1: The Use of Technology — Friday, December 2, 2022" in text
    assert "Presentation 2: Trajectories and Offending Patterns" in text
    assert "Dr. Sarah Paquette, Scientific Researcher, Sûreté du Québec" in text
    assert "Participants asked about privacy." in text
    assert "Thank you to the presenters." in text
    # Webinars without highlights get no empty heading.
    assert text.count("Discussion highlights") == 1
    assert re.search(r'href="/static/css/print(-[0-9a-f]{32})?\.css" media="print"', html)


def test_privacy_and_accessibility_pages(client, app):
    privacy = text_of(page(client, "/privacy"))
    assert "privacy purge" in privacy and "email address" in privacy
    assert "accessibility needs" in privacy
    accessibility = text_of(page(client, "/accessibility"))
    assert "WCAG" in accessibility and "2.1" in accessibility and "AA" in accessibility
    assert "Report a problem" in accessibility


def test_drafts_are_invisible(client, drafts):
    for path in ("/webinars/secret-draft", "/webinars/of-hidden-series", "/series/hidden-series",
                 "/series/hidden-series/report", "/presenters/secret-speaker",
                 "/webinars/secret-draft.ics", "/webinars/of-hidden-series.ics"):
        assert "Page not found" in text_of(page(client, path, 404))
    for path in ("/", "/webinars/", "/presenters/", "/presenters/maria-eira", "/series/ocse",
                 "/series/ocse/report", "/calendar.ics"):
        body = page(client, path).get_data(as_text=True)
        for secret in ("Unannounced Draft Webinar", "Webinar Of Hidden Series", "Secret Speaker",
                       "Draft Talk Title", "Hidden Talk Of Maria", "Hidden Series Title"):
            assert secret not in body, (path, secret)


@pytest.mark.parametrize("path", ["/webinars/nope", "/presenters/nope", "/series/nope", "/series/nope/report",
                                  "/webinars/nope.ics", "/nothing-here", "/webinars/technology/extra"])
def test_unknown_slugs_are_404_pages(client, programme, path):
    response = page(client, path, 404)
    assert "Page not found" in text_of(response)
    assert "text/html" in response.content_type


ODD_PATHS = [
    "/webinars/%00", "/webinars/%00.ics", "/presenters/%00", "/series/%00", "/series/%00/report",
    "/webinars/a%00b", "/webinars/%ff%fe", "/webinars/%ED%A0%80", "/webinars/%E2%80%8F",
    "/webinars/" + "a" * 5000, "/webinars/" + "é" * 300 + ".ics", "/webinars/.ics", "/webinars/..ics",
    "/webinars/x.ics.ics", "/webinars/%3Cscript%3E", "/webinars/..%2f..%2fetc%2fpasswd",
    "/presenters/" + "%F0%9F%98%80" * 50, "/series/%20", "/webinars/%0d%0aSet-Cookie:x=1",
    "/?" + "q=" + "x" * 50000, "/webinars/?" + "&".join(f"k{i}=v" for i in range(3000)),
    "/calendar.ics?x=%00", "/?%00=%00", "/language/xx", "/language/%00?next=%00",
    "/language/fr?next=" + "a" * 10000, "/static/%00", "/privacy?next=//evil.example",
]


@pytest.mark.parametrize("path", ODD_PATHS)
def test_odd_paths_never_answer_500(client, programme, path):
    response = client.get(path)
    assert response.status_code < 500, (path[:80], response.status_code)


def test_odd_headers_never_answer_500(client, programme):
    for headers in ({"Accept-Language": "\x00;q=x,,;;"}, {"Accept-Language": "zz-ZZ" * 500},
                    {"Cookie": "portal_lang=%00"}, {"Cookie": "portal_lang=" + "x" * 3000}):
        assert client.get("/webinars/technology", headers=headers).status_code == 200


def test_accept_language_sets_the_page_language(client, programme):
    assert '<html lang="fr">' in page(client, "/", **{"Accept-Language": "fr-CA,fr;q=0.9"}).get_data(as_text=True)
    assert '<html lang="en">' in page(client, "/", **{"Accept-Language": "de"}).get_data(as_text=True)


def test_language_switch_is_remembered(client, programme):
    response = client.get("/language/fr?next=/webinars/technology")
    assert response.status_code == 302
    assert response.headers["Location"] == "/fr/webinars/technology"
    assert "portal_lang=fr" in response.headers["Set-Cookie"]
    html = page(client, "/", **{"Accept-Language": "en"}).get_data(as_text=True)
    assert '<html lang="fr">' in html
    assert 'hreflang="en"' in html  # the switch now offers English


@pytest.mark.parametrize("target", ["https://evil.example/", "//evil.example/x", "/\\evil.example",
                                    "javascript:alert(1)", "http:/evil.example"])
def test_language_switch_redirects_only_within_the_site(client, app, target):
    response = client.get("/language/fr", query_string={"next": target})
    assert response.status_code == 302
    assert response.headers["Location"] == "/fr/"


def test_language_switch_ignores_unknown_languages(client, app):
    response = client.get("/language/xx?next=/privacy")
    assert response.headers["Location"] == "/privacy"
    assert "Set-Cookie" not in response.headers


def test_every_page_links_the_language_switch_back_to_itself(client, programme):
    html = page(client, "/webinars/technology").get_data(as_text=True)
    assert 'href="/language/fr?next=/fr/webinars/technology"' in html


# --- a fixed number of queries whatever the size of the programme ------------------------

def add_webinars(series, count: int, regular, start: int = 0) -> None:
    """Webinars with two talks each: one by a regular presenter, one by a newcomer with two roles."""
    organisation = make_organisation()
    for i in range(start, start + count):
        webinar = make_webinar(series, slug=f"bulk-{i}", starts_at=now() + timedelta(days=i - count // 2),
                               highlights="Notes.")
        newcomer = make_presenter(organisation=organisation, slug=f"newcomer-{i}")
        newcomer.roles.append(type(newcomer.roles[0])(title="Second role", organisation=make_organisation(),
                                                      position=1))
        make_presentation(webinar, [regular], position=0)
        make_presentation(webinar, [newcomer, regular], position=1)
    db.session.commit()


QUERY_PAGES = ["/", "/webinars/", "/webinars/bulk-1", "/webinars/bulk-1.ics", "/calendar.ics",
               "/presenters/", "/presenters/regular", "/series/bulk", "/series/bulk/report"]


def test_pages_issue_the_same_number_of_queries_with_3_or_300_webinars(client, app, count_queries):
    series = make_series(slug="bulk")
    series.key_themes.append(KeyTheme(position=0, heading="Theme",
                                      points=[ThemePoint(position=0, text="Point")]))
    series.objectives.append(Objective(position=0, text="Aim"))
    regular = make_presenter(slug="regular", name="Regular Speaker")
    add_webinars(series, 3, regular)

    def counts() -> dict[str, int]:
        found = {}
        for path in QUERY_PAGES:
            db.session.expire_all()
            with count_queries() as counter:
                page(client, path)
            found[path] = counter.count
        return found

    small = counts()
    add_webinars(series, 297, regular, start=3)
    large = counts()
    assert small == large
    assert max(small.values()) <= 8, small


# --- the demo series, loaded the way a newcomer loads it ---------------------------------

DEMO_SERIES = "/series/combatting-online-child-sexual-exploitation-2022-2023"
DEMO_WEBINARS = {
    "technology-in-combatting-online-child-sexual-exploitation":
        "The Use of Technology in Combatting Online Child Sexual Exploitation",
    "sextortion-and-emerging-trends": "Sextortion and Emerging Trends",
    "civil-society-and-academia-against-online-child-sexual-exploitation":
        "The Role of Civil Society Organizations and Academia in the Fight Against "
        "Online Child Sexual Exploitation",
}


@pytest.fixture
def demo(runner):
    result = runner.invoke(args=["demo", "load"])
    assert result.exit_code == 0, result.output


def test_demo_series_pages_show_the_seed(client, demo):
    home = text_of(page(client, "/"))
    assert "Combatting Online Child Sexual Exploitation" in home
    for title in DEMO_WEBINARS.values():
        assert title in home
    sextortion = text_of(page(client, "/webinars/sextortion-and-emerging-trends"))
    assert "Friday, January 27, 2023, 1:00 PM" in sextortion and "Eastern Standard Time" in sextortion
    for fact in ("Trends in Financial Sextortion", "Project Maverick",
                 "An Analysis of Financial Sextortion Victim Posts",
                 "Detective Lesley Zimmer", "Internet Child Exploitation Unit, Toronto Police Service",
                 "Detective Staff Sergeant Timothy (Tim) Brown",
                 "Ontario Provincial Strategy Coordinator, Ontario Provincial Police",
                 "Kelly Barker", "Jacques Marcoux", "Director of Research and Analytics"):
        assert fact in sextortion, fact
    assert sextortion.index("Trends in Financial Sextortion") < sextortion.index("Project Maverick")


def test_demo_presenters(client, demo):
    index = text_of(page(client, "/presenters/"))
    for name in ("Maria Eira", "Sherry Torres", "Lloyd Richardson", "Detective Lesley Zimmer",
                 "Detective Staff Sergeant Timothy (Tim) Brown", "Kelly Barker", "Jacques Marcoux",
                 "Simon Bailey, CBE, QPM, DL", "Guillaume Landry", "Dr. Sarah Paquette"):
        assert name in index, name
    paquette = text_of(page(client, "/presenters/sarah-paquette"))
    assert ("Scientific Researcher, Service de la coordination des enquêtes sur les crimes majeurs, "
            "Sûreté du Québec") in paquette
    assert "Trajectories and Offending Patterns of Men Who Use the Internet" in paquette
    torres = text_of(page(client, "/presenters/sherry-torres"))
    for role in ("Police Detective", "Digital Forensic Examiner", "UN Consultant", "Griffeye Trainer"):
        assert role in torres
    team = text_of(page(client, "/presenters/royal-canadian-mounted-police-analysts"))
    assert "A team of presenters" in team
    assert "National Child Exploitation Crime Centre, Royal Canadian Mounted Police" in team
    assert "Sensitive and Specialized Investigative Services" in team


def test_demo_series_report_reads_like_the_seed(client, demo):
    text = text_of(page(client, DEMO_SERIES + "/report"))
    assert "Hosted by Public Safety Canada" in text
    for point in ("These gaps can be filled by listening to the voices and stories of victims and survivors.",
                  "At the core of prevention should be the message that victims and survivors deserve support"):
        assert point in text
    assert ("Webinar 1: The Use of Technology in Combatting Online Child Sexual Exploitation "
            "— Friday, December 2, 2022") in text
    assert "Webinar 2: Sextortion and Emerging Trends — Friday, January 27, 2023" in text
    assert "Presentation 1: Tackling Online Child Sexual Exploitation: A Programme of Research" in text
    assert "Guillaume Landry, Executive Director, ECPAT International" in text
    assert "The Government of Canada continues to work with Provinces and Territories" in text
    # The seed's highlights are empty, and the objectives too: nothing is invented.
    assert "Discussion highlights" not in text and "Objectives" not in text
    series = text_of(page(client, DEMO_SERIES))
    assert "Awareness and education are essential components in preventing OCSE." in series


def test_demo_calendar_carries_the_three_webinars(client, demo):
    from icalendar import Calendar

    found = Calendar.from_ical(page(client, "/calendar.ics").data).walk("VEVENT")
    assert sorted(str(e["SUMMARY"]) for e in found) == sorted(DEMO_WEBINARS.values())
    starts = sorted(e.decoded("DTSTART") for e in found)
    assert starts[0] == datetime(2022, 12, 2, 18, 0, tzinfo=UTC)  # 13:00 Eastern
    assert "Project Maverick" in str(next(e for e in found if "Sextortion" in str(e["SUMMARY"]))["DESCRIPTION"])


def test_demo_upcoming_offers_registration(client, runner):
    assert runner.invoke(args=["demo", "load", "--upcoming"]).exit_code == 0
    upcoming = text_of(page(client, "/")).split("Upcoming webinars")[1]
    assert all(title in upcoming for title in DEMO_WEBINARS.values())
    for slug in DEMO_WEBINARS:
        assert f'href="/register/{slug}"' in page(client, f"/webinars/{slug}").get_data(as_text=True)


def test_server_errors_get_the_styled_page(app, client):
    app.config["PROPAGATE_EXCEPTIONS"] = False

    @app.get("/test-only-boom")
    def boom():
        raise RuntimeError("boom")

    response = client.get("/test-only-boom")
    assert response.status_code == 500
    text = text_of(response)
    assert "Something went wrong" in text and "Skip to main content" in text
    assert "boom" not in text
