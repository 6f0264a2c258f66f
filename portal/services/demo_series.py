"""The 2022–2023 series exactly as the seed document states it, as Python data.

Source: ``shared/seed/webinar-series-2022-2023.txt``. Every string below is
copied from that document; nothing is added (one sentence is left out: the
summary's "The objectives of these webinars were to:", which introduces a list the
document never gives). Where the document is silent
(times of day, duration, language, bios, acronyms, websites, abstracts, the
discussion highlights, the list of objectives) the field stays empty, except
the two assumptions the portal needs to place a session on a calendar:
13:00 Eastern and 90 minutes (see ``START_TIME`` and ``DURATION_MINUTES``).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, time

#: The seed gives dates only; 13:00 in Toronto is our stated assumption.
START_TIME = time(13, 0)
#: The seed gives no length; 90 minutes (three talks and a discussion) is our assumption.
DURATION_MINUTES = 90
TIMEZONE = "America/Toronto"


@dataclass(frozen=True)
class OrganisationFact:
    name: str
    country: str | None = None


@dataclass(frozen=True)
class RoleFact:
    title: str | None = None
    unit: str | None = None
    organisation: str | None = None


@dataclass(frozen=True)
class PresenterFact:
    slug: str
    name: str
    roles: tuple[RoleFact, ...]
    honorific: str | None = None
    post_nominals: str | None = None
    is_team: bool = False


@dataclass(frozen=True)
class PresentationFact:
    title: str
    presenters: tuple[str, ...]  # presenter slugs, in the order the seed names them


@dataclass(frozen=True)
class WebinarFact:
    slug: str
    title: str
    day: date
    presentations: tuple[PresentationFact, ...]


@dataclass(frozen=True)
class ThemeFact:
    heading: str
    points: tuple[str, ...]


@dataclass(frozen=True)
class SeriesFact:
    slug: str
    title: str
    subtitle: str
    host: str
    partners: tuple[str, ...]
    summary: str
    objectives: tuple[str, ...]
    key_themes: tuple[ThemeFact, ...]
    closing_remarks: str
    webinars: tuple[WebinarFact, ...] = field(default=())


PUBLIC_SAFETY = "Public Safety Canada"
JUSTICE = "Justice Canada"
RCMP = "Royal Canadian Mounted Police"
C3P = "Canadian Centre for Child Protection"  # the seed also writes "The Canadian Centre…": one body
UNICRI = "United Nations Interregional Crime and Justice Research Institute"
TORONTO_POLICE = "Toronto Police Service"
OPP = "Ontario Provincial Police"
ANGLIA_RUSKIN = "Anglia Ruskin University"
ECPAT = "ECPAT International"
SQ = "Sûreté du Québec"

ORGANISATIONS: tuple[OrganisationFact, ...] = (
    OrganisationFact(PUBLIC_SAFETY),
    OrganisationFact(JUSTICE),
    OrganisationFact(RCMP),
    OrganisationFact(C3P),
    OrganisationFact(UNICRI),
    OrganisationFact(TORONTO_POLICE),
    OrganisationFact(OPP),
    OrganisationFact(ANGLIA_RUSKIN, country="United Kingdom"),
    OrganisationFact(ECPAT),
    OrganisationFact(SQ),
)

RCMP_TEAM = "Royal Canadian Mounted Police analysts"

PRESENTERS: tuple[PresenterFact, ...] = (
    PresenterFact(
        "maria-eira", "Maria Eira",
        (RoleFact("Information and Technology Officer", "Centre for AI and Robotics", UNICRI),),
    ),
    PresenterFact(
        "sherry-torres", "Sherry Torres",
        (
            RoleFact("Police Detective"),
            RoleFact("Digital Forensic Examiner"),
            RoleFact("UN Consultant"),
            RoleFact("Griffeye Trainer"),
        ),
    ),
    PresenterFact(
        "lloyd-richardson", "Lloyd Richardson",
        (RoleFact("Director of Technology", None, C3P),),
    ),
    PresenterFact(
        "royal-canadian-mounted-police-analysts", RCMP_TEAM,
        (
            RoleFact("Analysts", "National Child Exploitation Crime Centre", RCMP),
            RoleFact("Analysts", "Sensitive and Specialized Investigative Services", RCMP),
        ),
        is_team=True,
    ),
    PresenterFact(
        "lesley-zimmer", "Lesley Zimmer",
        (RoleFact(None, "Internet Child Exploitation Unit", TORONTO_POLICE),),
        honorific="Detective",
    ),
    PresenterFact(
        "timothy-brown", "Timothy (Tim) Brown",
        (RoleFact("Ontario Provincial Strategy Coordinator", None, OPP),),
        honorific="Detective Staff Sergeant",
    ),
    PresenterFact(
        "kelly-barker", "Kelly Barker",
        (RoleFact("Research Analyst", None, C3P),),
    ),
    PresenterFact(
        "jacques-marcoux", "Jacques Marcoux",
        (RoleFact("Director of Research and Analytics", None, C3P),),
    ),
    PresenterFact(
        "simon-bailey", "Simon Bailey",
        (RoleFact(None, None, ANGLIA_RUSKIN),),
        post_nominals="CBE, QPM, DL",
    ),
    PresenterFact(
        "guillaume-landry", "Guillaume Landry",
        (RoleFact("Executive Director", None, ECPAT),),
    ),
    PresenterFact(
        "sarah-paquette", "Sarah Paquette",
        (RoleFact("Scientific Researcher", "Service de la coordination des enquêtes sur les crimes majeurs", SQ),),
        honorific="Dr.",
    ),
)

WEBINARS: tuple[WebinarFact, ...] = (
    WebinarFact(
        "technology-in-combatting-online-child-sexual-exploitation",
        "The Use of Technology in Combatting Online Child Sexual Exploitation",
        date(2022, 12, 2),
        (
            PresentationFact(
                "AI for Safer Children's Global Hub: The Platform for Law Enforcement "
                "to Leverage AI to Fight OCSE",
                ("maria-eira",),
            ),
            PresentationFact("Using Griffeye Analyze DI Pro to Streamline Investigations", ("sherry-torres",)),
            PresentationFact(
                "Project Arachnid: Industry and the Proactive Detection of CSAM", ("lloyd-richardson",)
            ),
        ),
    ),
    WebinarFact(
        "sextortion-and-emerging-trends",
        "Sextortion and Emerging Trends",
        date(2023, 1, 27),
        (
            PresentationFact("Trends in Financial Sextortion", ("royal-canadian-mounted-police-analysts",)),
            PresentationFact("Project Maverick", ("lesley-zimmer", "timothy-brown")),
            PresentationFact(
                "An Analysis of Financial Sextortion Victim Posts", ("kelly-barker", "jacques-marcoux")
            ),
        ),
    ),
    WebinarFact(
        "civil-society-and-academia-against-online-child-sexual-exploitation",
        "The Role of Civil Society Organizations and Academia in the Fight Against "
        "Online Child Sexual Exploitation",
        date(2023, 2, 24),
        (
            PresentationFact(
                "Tackling Online Child Sexual Exploitation: A Programme of Research and Innovation",
                ("simon-bailey",),
            ),
            PresentationFact(
                "Leaving No One Behind: Taking Stock of the Latest Developments in the Area "
                "of Sexual Exploitation of Children",
                ("guillaume-landry",),
            ),
            PresentationFact(
                "Trajectories and Offending Patterns of Men Who Use the Internet to Sexually "
                "Exploit Children and Adolescents",
                ("sarah-paquette",),
            ),
        ),
    ),
)

SERIES = SeriesFact(
    slug="combatting-online-child-sexual-exploitation-2022-2023",
    title="Combatting Online Child Sexual Exploitation",
    subtitle="Public Safety Canada Webinar Series 2023",
    host=PUBLIC_SAFETY,
    partners=(JUSTICE, RCMP, C3P),
    summary="\n\n".join((
        "Public Safety Canada leads the National Strategy for the Protection of Children from "
        "Sexual Exploitation on the Internet, launched in 2004, and works in collaboration with "
        "Justice Canada, the Royal Canadian Mounted Police and the Canadian Centre for Child Protection.",
        "In 2022-2023, Public Safety hosted a three-part webinar series on combatting online child "
        "sexual exploitation.",
        "This report provides a summary of the webinar 2023 series titled "
        "\u201cCombatting Online Child Sexual Exploitation.\u201d",
    )),
    # The seed's summary goes on "The objectives of these webinars were to:" and lists
    # nothing: that sentence introduces the objectives, so it is left out with them.
    objectives=(),
    key_themes=(
        ThemeFact(
            "OCSE is a complex crime that is still not yet fully understood.",
            (
                "OCSE takes various forms that impact victims and survivors in different but harmful ways.",
                "Despite the leaps made in studying its complexity, gaps remain in understanding OCSE, "
                "including how boys are victimized.",
                "These gaps can be filled by listening to the voices and stories of victims and survivors.",
            ),
        ),
        ThemeFact(
            "There are benefits and drawbacks to using technology to combat OCSE.",
            (
                "Technology unlocks massive potential for detecting and investigating OCSE, especially "
                "when considering the speed and capacity at which it can scan and sort online content.",
                "At the same time, technology makes mistakes that can only be corrected by humans. It also "
                "poses privacy concerns and concerns surrounding misinformation when data is not properly "
                "vetted and communicated.",
            ),
        ),
        ThemeFact(
            "Awareness and education are essential components in preventing OCSE.",
            (
                "Prevention is an important pillar of addressing OCSE that involves training and education "
                "among all stakeholders, including parents, caregivers, schools and law enforcement actors.",
                "At the core of prevention should be the message that victims and survivors deserve support "
                "and are never to blame for the violence that they endure.",
            ),
        ),
    ),
    closing_remarks="\n\n".join((
        "Public Safety Canada would like to thank the presenters and participants for sharing their "
        "expertise and experiences during the 2022-2023 webinar series.",
        "A key takeaway from this webinar series is the importance of research, education and training "
        "among all stakeholders, including parents, caregivers, schools, law enforcement and governments "
        "to more effectively prevent online child sexual exploitation.",
        "Technology unlocks massive potential for detecting and investigating OCSE. However, despite "
        "advances made in studying the complexity of this crime, gaps remain, and can be addressed by "
        "listening to the voices of victims and survivors.",
        "The Government of Canada continues to work with Provinces and Territories, non-governmental "
        "organizations, stakeholders, and international partners to combat the complex crime of online "
        "child sexual exploitation.",
    )),
    webinars=WEBINARS,
)
