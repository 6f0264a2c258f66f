"""Showing organiser-written text in the reader's language, and saying so when it is not.

Pages call ``shown(item, "title")`` (inline) or ``paragraphs_of`` (the macro in
``public/_macros.html``, built on ``version``); text emails and calendar files call
``plain``. When the reader's language has no version, the other one is shown on
an element carrying its ``lang`` (screen readers switch voice) followed by a short
note in the page's language: never silently.
"""

from __future__ import annotations

from flask import Flask
from flask_babel import lazy_gettext as _l
from markupsafe import Markup, escape

from portal.models.bilingual import Shown
from portal.models.bilingual import shown as version

#: Keyed by the language the text is shown in.
ONLY_IN = {"en": _l("(in English only)"), "fr": _l("(in French only)")}


def fallback_note(found: Shown) -> Markup:
    """The note after a text shown in the other language; nothing when it is in the reader's."""
    if not found.is_fallback:
        return Markup("")
    return Markup('<span class="lang-note">{}</span>').format(ONLY_IN[found.lang])


def only_in(found: Shown) -> str:
    """The note as plain text (text emails), empty when the text is in the reader's language."""
    return str(ONLY_IN[found.lang]) if found.is_fallback else ""


def lang_attr(found: Shown) -> Markup:
    """` lang="en"` for an element holding a fallback text, else nothing."""
    return Markup(' lang="{}"').format(found.lang) if found.is_fallback else Markup("")


def mark(found: Shown) -> Markup:
    if not found.is_fallback:
        return escape(found.text)
    return Markup('<span lang="{}">{}</span> {}').format(found.lang, found.text, fallback_note(found))


def shown(item, field: str) -> Markup:
    """One line of organiser text for HTML, marked when it is in the other language."""
    if item is None:
        return Markup("")
    return mark(version(item, field))


def plain(item, field: str) -> str:
    """For plain-text emails and calendar files: the text, then the note when it is a fallback."""
    if item is None:
        return ""
    found = version(item, field)
    return f"{found.text} {ONLY_IN[found.lang]}" if found.is_fallback else found.text


def presenter_name(presenter) -> Markup:
    """Honorific, name and post-nominals; a fallback honorific carries its lang.

    Names are not translated; an honorific ('Dr.') borrowed from the other
    language is marked with ``lang`` but gets no note: a note inside a
    person's name would read worse than it helps.
    """
    honorific = version(presenter, "honorific")
    name = escape(presenter.name)
    if honorific.text:
        if honorific.is_fallback:
            name = Markup('<span lang="{}">{}</span> {}').format(honorific.lang, honorific.text, name)
        else:
            name = Markup("{} {}").format(honorific.text, name)
    return Markup("{}, {}").format(name, presenter.post_nominals) if presenter.post_nominals else name


def role_line(role) -> Markup:
    """'Job title, unit, organisation', each part in the reader's language or marked."""
    parts = [shown(role, "title"), shown(role, "unit")]
    if role.organisation is not None:
        parts.append(shown(role.organisation, "name"))
    return Markup(", ").join(part for part in parts if part)


def init_app(app: Flask) -> None:
    app.jinja_env.globals.update(
        shown=shown, plain=plain, only_in=only_in, version=version, lang_attr=lang_attr, fallback_note=fallback_note,
        presenter_name=presenter_name, role_line=role_line,
    )
