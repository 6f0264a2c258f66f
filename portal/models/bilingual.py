"""Texts an organiser writes exist in English and French: one column per language.

A translatable field ``title`` is stored as two columns, ``title_en`` (the
database column keeps its old name, ``title``, so rows written before the
French existed are read as they are) and ``title_fr``. NULL or an empty string
means "not written in that language".

The old attribute stays readable: ``webinar.title`` is the text in the reader's
language (Flask-Babel's current locale; English outside a request), falling
back to the other language when the reader's is empty. Writing ``webinar.title``
writes the English, so code that builds objects with ``title=...`` (the demo,
tests, other features) keeps doing what it did. In SQL, ``Webinar.title`` is the
English column: queries built once and cached cannot depend on a request's
language. Forms, the API and exports use ``title_en`` / ``title_fr`` directly.
"""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy.ext.hybrid import hybrid_property

LANGUAGES = ("en", "fr")
SOURCE_LANGUAGE = "en"


def reading_language() -> str:
    """The language pages, emails and calendar files are being written in right now."""
    from flask_babel import get_locale

    try:
        locale = get_locale()
    except RuntimeError:  # no application context: a script working on models
        locale = None
    language = locale.language if locale is not None else SOURCE_LANGUAGE
    return language if language in LANGUAGES else SOURCE_LANGUAGE


def other_language(language: str) -> str:
    return "fr" if language == "en" else "en"


def is_written(text: str | None) -> bool:
    return bool(text and text.strip())


@dataclass(frozen=True)
class Shown:
    """A text as shown to a reader: which language it is in, and whether that is a fallback."""

    text: str
    #: Language of ``text``.
    lang: str
    #: Language the reader asked for.
    wanted: str

    @property
    def is_fallback(self) -> bool:
        return self.lang != self.wanted and is_written(self.text)


def versions(item, field: str) -> dict[str, str | None]:
    """{'en': ..., 'fr': ...} for one translatable field of a model object."""
    return {language: getattr(item, f"{field}_{language}") for language in LANGUAGES}


def shown(item, field: str, language: str | None = None) -> Shown:
    """The version a reader of ``language`` (default: the current one) gets, and its language."""
    wanted = language or reading_language()
    mine = getattr(item, f"{field}_{wanted}")
    if is_written(mine):
        return Shown(mine, wanted, wanted)
    other = other_language(wanted)
    theirs = getattr(item, f"{field}_{other}")
    if is_written(theirs):
        return Shown(theirs, other, wanted)
    return Shown(mine or "", wanted, wanted)


def when_shown(item, field: str):
    """The reader-language text, chosen when it is turned into a string, not now.

    For lazy email subjects (``_l("Reminder: %(title)s", title=when_shown(webinar, "title"))``):
    the subject is rendered under the registrant's language, and so is the title.
    """
    from flask_babel import LazyString

    return LazyString(lambda: getattr(item, field))


def translated(field: str) -> hybrid_property:
    """The reader-language attribute for the ``<field>_en`` / ``<field>_fr`` column pair."""
    english, french = f"{field}_en", f"{field}_fr"

    def read(self):
        wanted = reading_language()
        mine = getattr(self, english if wanted == "en" else french)
        if is_written(mine):
            return mine
        theirs = getattr(self, french if wanted == "en" else english)
        if is_written(theirs):
            return theirs
        # Neither written: keep the English column's own empty value (None or "").
        return getattr(self, english)

    def write(self, value):
        setattr(self, english, value)

    def in_sql(cls):
        return getattr(cls, english)

    read.__name__ = write.__name__ = in_sql.__name__ = field
    prop = hybrid_property(read)
    prop = prop.setter(write)
    return prop.expression(in_sql)


#: Translatable fields per model, in the order a translator reads them.
TRANSLATABLE: dict[str, tuple[str, ...]] = {
    "Series": ("title", "subtitle", "summary", "closing_remarks"),
    "Objective": ("text",),
    "KeyTheme": ("heading",),
    "ThemePoint": ("text",),
    "Webinar": ("title", "description", "highlights", "cancellation_message"),
    "Presentation": ("title", "abstract"),
    "Presenter": ("honorific", "bio"),
    "PresenterRole": ("title", "unit"),
    "Organisation": ("name", "acronym"),
}


def fields_of(item) -> tuple[str, ...]:
    return TRANSLATABLE[type(item).__name__]
