"""French and English: pages follow the visitor's language, email follows the registrant's."""

from __future__ import annotations

import re
from datetime import timedelta
from html import unescape
from pathlib import Path

import flask_babel
import pytest
from babel.messages.extract import DEFAULT_KEYWORDS, extract_from_dir
from babel.messages.frontend import parse_mapping_cfg
from babel.messages.mofile import write_mo
from babel.messages.pofile import read_po
from sqlalchemy import select

from portal.extensions import db
from portal.models import OutboxMessage, Registration
from tests.factories import make_registration, make_webinar, now

TRANSLATIONS = Path(__file__).resolve().parent.parent / "portal" / "translations"
FRENCH_PO = TRANSLATIONS / "fr" / "LC_MESSAGES" / "messages.po"
SERIES = "combatting-online-child-sexual-exploitation-2022-2023"
TECHNOLOGY = "technology-in-combatting-online-child-sexual-exploitation"
TECHNOLOGY_TITLE = "The Use of Technology in Combatting Online Child Sexual Exploitation"
FRENCH_DATE = re.compile(r"(lundi|mardi|mercredi|jeudi|vendredi|samedi|dimanche) \d{1,2} "
                         r"(janvier|février|mars|avril|mai|juin|juillet|août|septembre|octobre|novembre|décembre) \d{4}")


@pytest.fixture(scope="module", autouse=True)
def compiled_catalogue():
    """`make test` compiles the .po; a bare `pytest` after editing it must not test a stale .mo."""
    mo = FRENCH_PO.with_suffix(".mo")
    if not mo.exists() or mo.stat().st_mtime < FRENCH_PO.stat().st_mtime:
        with FRENCH_PO.open("rb") as po:
            catalogue = read_po(po, locale="fr")
        with mo.open("wb") as out:
            write_mo(out, catalogue)


def text_of(response) -> str:
    """What a reader sees: tags dropped, entities decoded, (non-breaking) spaces collapsed."""
    html = re.sub(r"<(script|style)\b.*?</\1>", " ", response.get_data(as_text=True), flags=re.S)
    plain = unescape(re.sub(r"<[^>]+>", " ", html))
    return re.sub(r"\s+", " ", plain.replace("\xa0", " ").replace("\u202f", " "))


def fetch(client, path: str, status: int = 200, **headers):
    """One request as the browser would make it.

    The test client reuses the test's app context, so Flask-Babel's locale, cached on
    ``g`` by the first request, would leak into the next one; in production every
    request has a fresh context. Forget it first.
    """
    flask_babel.refresh()
    response = client.get(path, headers=headers, follow_redirects=not 300 <= status < 400)
    assert response.status_code == status, (path, response.status_code)
    return response


FRENCH = {"Accept-Language": "fr-CA,fr;q=0.9,en;q=0.5"}
ENGLISH = {"Accept-Language": "en-CA,en;q=0.9"}

#: Each public page with a few of the French phrases it must carry, and their English originals.
PAGES = {
    "/": (["Webinaires passés", "Lire le rapport sommaire", "Aucun webinaire à venir n’est encore annoncé."],
          ["Past webinars", "Read the summary report"]),
    "/webinars/": (["Webinaires passés", "Les heures sont indiquées dans le fuseau horaire de chaque série."],
                   ["Past webinars", "Times are shown in each series' time zone."]),
    "/webinars/sextortion-and-emerging-trends": (["Présentations", "Durée"],
                                                 ["Presentations", "Duration"]),
    "/presenters/": (["Conférenciers"], ["Presenters"]),
    "/presenters/sarah-paquette": (["Présentations"], ["Presentations"]),
    f"/series/{SERIES}": (["Thèmes clés", "Séances", "Organisé par"], ["Key themes", "Sessions", "Hosted by"]),
    f"/series/{SERIES}/report": (["Rapport sommaire", "Thèmes clés de la série de webinaires", "Imprimer ce rapport"],
                                 ["Summary report", "Key themes from the webinar series"]),
    "/privacy": (["Avis de confidentialité", "Ce que nous recueillons", "Témoins", "Vos droits"],
                 ["What we collect", "Cookies", "Your rights"]),
    "/accessibility": (["Énoncé sur l’accessibilité", "agrandi jusqu’à 200 % et", "Limites connues"],
                       ["Accessibility statement", "enlarged to 200% and", "Known limitations"]),
    "/organiser/login": (["Connexion des organisateurs", "Mot de passe", "Ouvrir une session"],
                         ["Organiser sign-in", "Password", "Sign in"]),
}
#: On every page: the header, skip link and footer.
LAYOUT_FR = ["Passer au contenu principal", "Portail des webinaires", "Webinaires", "Conférenciers",
             "Avis de confidentialité", "Accessibilité", "Données ouvertes (JSON)"]
LAYOUT_EN = ["Skip to main content", "Webinar portal", "Webinars", "Presenters", "Privacy notice",
             "Open data (JSON)"]


@pytest.fixture
def demo(runner):
    result = runner.invoke(args=["demo", "load"])
    assert result.exit_code == 0, result.output


@pytest.fixture
def upcoming_demo(runner):
    result = runner.invoke(args=["demo", "load", "--upcoming"])
    assert result.exit_code == 0, result.output


# --- pages ---------------------------------------------------------------------------

@pytest.mark.parametrize("path", PAGES)
def test_accept_language_fr_gives_french_pages(client, demo, path):
    response = fetch(client, path, **FRENCH)
    html, text = response.get_data(as_text=True), text_of(response)
    assert '<html lang="fr">' in html
    french, english = PAGES[path]
    for phrase in french + LAYOUT_FR:
        assert phrase in text, (path, phrase)
    for phrase in english + ["Skip to main content", "Privacy notice"]:
        assert phrase not in text, (path, phrase)
    assert 'aria-label="Menu principal"' in html and 'aria-label="Pied de page"' in html  # heard, not seen


@pytest.mark.parametrize("path", PAGES)
def test_english_pages_stay_english(client, demo, path):
    response = fetch(client, path, **ENGLISH)
    html, text = response.get_data(as_text=True), text_of(response)
    assert '<html lang="en">' in html
    french, english = PAGES[path]
    for phrase in english + LAYOUT_EN:
        assert phrase in text, (path, phrase)
    for phrase in french + ["Passer au contenu principal", "Conférenciers"]:
        assert phrase not in text, (path, phrase)


def test_french_dates_on_a_webinar_page(client, demo):
    text = text_of(fetch(client, "/webinars/sextortion-and-emerging-trends", **FRENCH))
    assert "vendredi 27 janvier 2023" in text
    assert "Friday" not in text and "January" not in text


def test_language_switch_cookie_wins_over_the_browser(client, demo):
    switched = fetch(client, "/language/fr?next=/presenters/", 302, **ENGLISH)
    assert switched.headers["Location"] == "/fr/presenters/"
    assert "portal_lang=fr" in switched.headers["Set-Cookie"]

    response = fetch(client, "/presenters/", **ENGLISH)
    text = text_of(response)
    assert '<html lang="fr">' in response.get_data(as_text=True)
    assert "Conférenciers" in text and "Passer au contenu principal" in text
    assert 'hreflang="en"' in response.get_data(as_text=True)  # the way back is offered

    fetch(client, "/language/en?next=/presenters/", 302, **FRENCH)
    back = fetch(client, "/presenters/", **FRENCH)
    assert '<html lang="en">' in back.get_data(as_text=True)
    assert "Presenters" in text_of(back) and "Conférenciers" not in text_of(back)


def test_unknown_language_falls_back_to_english(client, demo):
    response = fetch(client, "/", **{"Accept-Language": "de-DE,es;q=0.8"})
    assert '<html lang="en">' in response.get_data(as_text=True)
    assert "Skip to main content" in text_of(response)


def test_french_404_page(client, demo):
    response = fetch(client, "/webinars/nowhere", 404, **FRENCH)
    text = text_of(response)
    assert "Page introuvable" in text and "Voir tous les webinaires" in text
    assert "Page not found" not in text


# --- the registration form -------------------------------------------------------------

def registration_data(token: str, **overrides) -> dict:
    data = {"csrf_token": token, "full_name": "Ada Lovelace", "email": "ada@example.org",
            "organisation_name": "Analytical Society", "sector": "academia", "region": "QC",
            "preferred_language": "fr", "accessibility_needs": "", "consent": "y"}
    data.update(overrides)
    return {k: v for k, v in data.items() if v is not None}


def csrf_of(response) -> str:
    match = re.search(r'name="csrf_token" type="hidden" value="([^"]+)"', response.get_data(as_text=True))
    assert match, "no CSRF token"
    return match.group(1)


def register(client, slug: str, headers: dict, **overrides):
    path = f"/register/{slug}"
    form = fetch(client, path, **headers)
    if form.history:  # a French browser is led to /fr/register/…; the form posts there
        path = form.history[-1].headers["Location"]
    flask_babel.refresh()
    return client.post(path, data=registration_data(token=csrf_of(form), **overrides), headers=headers)


def test_registration_form_in_french(client, upcoming_demo):
    text = text_of(fetch(client, f"/register/{TECHNOLOGY}", **FRENCH))
    for label in ("S’inscrire", "Nom complet", "Adresse courriel", "Secteur", "Province, territoire ou pays",
                  "Langue des courriels", "Besoins en matière d’accessibilité", "(obligatoire)",
                  "Colombie-Britannique", "Île-du-Prince-Édouard", "Application de la loi",
                  "Parent / proche aidant", "J’ai lu l’avis de confidentialité"):
        assert label in text, label
    for english in ("Full name", "Email address", "Language for emails", "British Columbia", "(required)"):
        assert english not in text, english


def test_registration_errors_in_french(client, upcoming_demo):
    response = register(client, TECHNOLOGY, FRENCH, full_name="", email="pas-une-adresse", sector=None,
                        consent=None)
    assert response.status_code == 422
    text = text_of(response)
    assert "Il y a un problème" in text
    assert "Entrez votre nom complet." in text
    assert "Choisissez le secteur dans lequel vous travaillez." in text
    assert "Vous devez accepter l’avis de confidentialité pour vous inscrire." in text
    assert "Erreur :" in text
    assert "Enter your full name." not in text and "There is a problem" not in text
    assert db.session.scalar(select(Registration.id)) is None


def test_check_your_email_page_in_french(client, upcoming_demo):
    response = register(client, TECHNOLOGY, FRENCH)
    assert response.status_code == 302
    text = text_of(fetch(client, response.headers["Location"], **FRENCH))
    assert "Consultez vos courriels" in text and "courrier indésirable" in text


# --- email follows the registrant's language, not the page's -------------------------------

def messages() -> list[OutboxMessage]:
    return list(db.session.scalars(select(OutboxMessage).order_by(OutboxMessage.id)))


def manage_path(message: OutboxMessage) -> str:
    return re.search(r"http://portal\.test((?:/fr)?/registration/[\w-]+)", message.body_text).group(1)


def test_confirmation_email_in_french_for_a_french_registrant(client, upcoming_demo):
    response = register(client, TECHNOLOGY, ENGLISH, preferred_language="fr")  # browsing in English
    assert response.status_code == 302
    [message] = messages()
    assert message.kind == "confirmation"
    assert message.subject == f"Inscription confirmée\u00a0: {TECHNOLOGY_TITLE}"
    body = message.body_text.replace("\xa0", " ")
    for phrase in ("Bonjour Ada Lovelace,", "Votre inscription est confirmée pour :",
                   "Le fichier de calendrier joint à ce courriel", "Consulter ou annuler votre inscription :",
                   "Vous recevez ce courriel parce que cette adresse a servi à une inscription à un webinaire."):
        assert phrase in body, phrase
    assert FRENCH_DATE.search(body), body
    html = unescape(message.body_html).replace("\xa0", " ")
    assert "Votre inscription est confirmée" in html and "Télécharger le fichier de calendrier" in html
    assert "Hello" not in body and "You are registered" not in html


def test_english_registrant_gets_english_email_from_a_french_page(client, upcoming_demo):
    register(client, TECHNOLOGY, FRENCH, preferred_language="en")
    [message] = messages()
    assert message.subject == f"You are registered: {TECHNOLOGY_TITLE}"
    assert "Hello Ada Lovelace," in message.body_text and "Bonjour" not in message.body_text


def test_waiting_list_promotion_and_cancellation_emails_in_french(client, app):
    webinar = make_webinar(capacity=1, title="Atelier")
    db.session.commit()
    register(client, webinar.slug, ENGLISH, email="first@example.org", preferred_language="fr")
    register(client, webinar.slug, ENGLISH, email="second@example.org", preferred_language="fr")
    confirmation, waitlisted = messages()
    assert waitlisted.subject == "Vous êtes sur la liste d’attente\u00a0: Atelier"
    assert "Ce webinaire est complet\u202f; vous êtes donc sur sa liste d’attente" in waitlisted.body_text

    path = manage_path(confirmation)
    page = fetch(client, path, **ENGLISH)  # the attendee's browser may well be in English
    flask_babel.refresh()
    client.post(f"{path}/cancel", data={"csrf_token": csrf_of(page)}, headers=ENGLISH)
    kinds = {m.kind: m for m in messages()}
    assert kinds["cancelled"].subject == "Inscription annulée\u00a0: Atelier"
    assert "Votre inscription est annulée, comme vous l’avez demandé" in kinds["cancelled"].body_text
    assert kinds["promoted"].subject == "Une place vous est attribuée\u00a0: Atelier"
    assert "Bonne nouvelle : une place s’est libérée" in kinds["promoted"].body_text.replace("\xa0", " ")


def test_reminder_from_the_command_line_in_french(runner):
    """Commands render outside any request: the registrant's language still applies."""
    webinar = make_webinar(starts_at=now() + timedelta(hours=3), title="Atelier")
    make_registration(webinar, preferred_language="fr", full_name="Élise Tremblay")
    make_registration(webinar, preferred_language="en", full_name="Ed Smith")
    db.session.commit()
    result = runner.invoke(args=["reminders", "send"])
    assert result.exit_code == 0, result.output
    french, english = sorted(messages(), key=lambda m: m.body_text.startswith("Hello"))
    assert french.subject == "Rappel\u00a0: Atelier"
    assert "Bonjour Élise Tremblay," in french.body_text and FRENCH_DATE.search(french.body_text)
    assert english.subject == "Reminder: Atelier" and "Hello Ed Smith," in english.body_text


# --- the catalogue: nothing reaches users untranslated ------------------------------------

REPO = TRANSLATIONS.parent.parent
KEYWORDS = {**DEFAULT_KEYWORDS, "_l": None, "lazy_gettext": None, "lazy_ngettext": (1, 2),
            "lazy_pgettext": ((1, "c"), 2)}
PLACEHOLDER = re.compile(r"%\(\w+\)[sd]|%%")


def french_catalogue():
    with FRENCH_PO.open("rb") as po:
        return read_po(po, locale="fr")


def strings_in_the_code() -> set:
    """What `make extract` would find now, read with the same babel.cfg."""
    with (REPO / "babel.cfg").open() as cfg:
        method_map, options_map = parse_mapping_cfg(cfg)
    found = set()
    for _filename, _lineno, message, _comments, context in extract_from_dir(
            str(REPO), method_map, options_map, keywords=KEYWORDS):
        found.add((message[0] if isinstance(message, tuple) else message, context))
    return found


def test_every_string_in_the_code_is_in_the_french_catalogue():
    catalogue = french_catalogue()
    missing = sorted(msgid for msgid, context in strings_in_the_code()
                     if catalogue.get(msgid, context=context) is None)
    assert not missing, f"{len(missing)} new strings: run `make extract` and translate {missing[:20]}"


def test_every_french_message_is_translated_and_checked():
    untranslated, fuzzy, broken = [], [], []
    for message in french_catalogue():
        if not message.id:
            continue
        ids = message.id if isinstance(message.id, tuple) else (message.id,)
        strings = message.string if isinstance(message.string, tuple) else (message.string,)
        if not all(s and s.strip() for s in strings):
            untranslated.append(ids[0])
        if message.fuzzy:
            fuzzy.append(ids[0])
        if len(ids) == 1 and sorted(PLACEHOLDER.findall(ids[0])) != sorted(PLACEHOLDER.findall(strings[0])):
            broken.append(ids[0])
        if len(ids) > 1 and ({p for s in ids for p in PLACEHOLDER.findall(s)}
                             != {p for s in strings for p in PLACEHOLDER.findall(s or "")}):
            broken.append(ids[0])
    assert not untranslated, f"{len(untranslated)} without French: {untranslated[:20]}"
    assert not fuzzy, f"{len(fuzzy)} still fuzzy (check, then remove the flag): {fuzzy[:20]}"
    assert not broken, f"placeholders differ: {sorted(set(broken))[:20]}"
