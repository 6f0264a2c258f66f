"""Rules about the two versions of organiser-written text.

- ``missing_translations(item)``: which public texts of a webinar or series
  exist in one language only (the programme page lists them, publishing asks).
- ``check_publishable``: publishing asks for confirmation while something is
  missing, or refuses when ``REQUIRE_BOTH_LANGUAGES`` is on.
- ``export_csv`` / ``import_csv``: every translatable text of a series (its
  webinars, presentations, and the presenters and organisations they name) as a
  CSV a translator can work on, and back. Import checks the whole file first and
  writes all of it or nothing.
"""

from __future__ import annotations

import csv
import io
from collections.abc import Iterator
from dataclasses import dataclass, field

from flask import current_app
from flask_babel import lazy_gettext as _l
from sqlalchemy import inspect
from sqlalchemy.orm import selectinload

from portal.extensions import db
from portal.models import (
    KeyTheme,
    Objective,
    Organisation,
    Presentation,
    Presenter,
    PresenterRole,
    Series,
    ThemePoint,
    Webinar,
    WebinarStatus,
)
from portal.models.bilingual import LANGUAGES, TRANSLATABLE, fields_of, is_written
from portal.models.types import parse_id
from portal.services.programme_editing import organisation_name_taken

# ---------------------------------------------------------------- what is missing

#: Words for the fields, as an organiser reads them in the list of missing translations.
FIELD_WORDS = {
    "title": _l("title"),
    "subtitle": _l("subtitle"),
    "summary": _l("summary"),
    "closing_remarks": _l("closing remarks"),
    "text": _l("text"),
    "heading": _l("heading"),
    "description": _l("description"),
    "highlights": _l("discussion highlights"),
    "cancellation_message": _l("cancellation message"),
    "abstract": _l("abstract"),
    "honorific": _l("honorific"),
    "bio": _l("biography"),
    "unit": _l("unit"),
    "name": _l("name"),
    "acronym": _l("acronym"),
}
LANGUAGE_WORDS = {"en": _l("English"), "fr": _l("French")}
#: Keyed by the language that is missing.
NO_VERSION = {"en": _l("%(where)s — %(field)s: no English version"),
              "fr": _l("%(where)s — %(field)s: no French version")}


@dataclass(frozen=True)
class Missing:
    """One text written in one language only."""

    #: The item as the organiser knows it ("Objective 2", a presentation's title…).
    where: str
    field: str
    #: The language it lacks.
    language: str

    def __str__(self) -> str:
        return str(NO_VERSION[self.language]) % {"where": self.where, "field": FIELD_WORDS[self.field]}


def _missing_in(item, where: str, fields: tuple[str, ...] | None = None) -> list[Missing]:
    found = []
    for name in fields or fields_of(item):
        written = {language: is_written(getattr(item, f"{name}_{language}")) for language in LANGUAGES}
        if any(written.values()) and not all(written.values()):
            lacking = next(language for language, done in written.items() if not done)
            found.append(Missing(where, name, lacking))
    return found


def missing_translations(item) -> list[Missing]:
    """The public texts of a series (with its objectives and themes), a webinar (with its
    presentations), a presenter (with their positions) or an organisation that exist in one
    language only. Uses loaded relationships."""
    if isinstance(item, Presenter):
        found = _missing_in(item, str(_l("Presenter")))
        for n, role in enumerate(item.roles, start=1):
            found += _missing_in(role, str(_l("Position %(number)d", number=n)))
        return found
    if isinstance(item, Organisation):
        return _missing_in(item, str(_l("Organisation")))
    if isinstance(item, Series):
        found = _missing_in(item, str(_l("Series")))
        for n, objective in enumerate(item.objectives, start=1):
            found += _missing_in(objective, str(_l("Objective %(number)d", number=n)))
        for n, theme in enumerate(item.key_themes, start=1):
            found += _missing_in(theme, str(_l("Key theme %(number)d", number=n)))
            for m, point in enumerate(theme.points, start=1):
                found += _missing_in(point, str(_l("Key theme %(number)d, point %(point)d", number=n, point=m)))
        return found
    fields = fields_of(item) if item.status == WebinarStatus.CANCELLED else ("title", "description", "highlights")
    found = _missing_in(item, str(_l("Webinar")), fields)
    for n, presentation in enumerate(item.presentations, start=1):
        found += _missing_in(presentation, str(_l("Presentation %(number)d", number=n)))
    return found


class TranslationsMissing(ValueError):
    """Publishing while texts lack a version: asks for confirmation, or refuses (``refused``)."""

    def __init__(self, missing: list[Missing], refused: bool) -> None:
        super().__init__("; ".join(str(m) for m in missing))
        self.missing = missing
        self.refused = refused


def check_publishable(item: Series | Webinar, confirmed: bool) -> None:
    """Raise ``TranslationsMissing`` unless every public text has both versions, or the
    organiser confirmed publishing anyway (not allowed with ``REQUIRE_BOTH_LANGUAGES``)."""
    missing = missing_translations(item)
    if not missing:
        return
    required = current_app.config.get("REQUIRE_BOTH_LANGUAGES", False)
    if required or not confirmed:
        raise TranslationsMissing(missing, refused=required)


# ---------------------------------------------------------------- translator's file

COLUMNS = ["key", "context", "en", "fr"]
#: Key prefix -> model; a key is "<prefix>.<id>.<field>", e.g. "webinar.12.title".
KINDS: dict[str, type] = {
    "series": Series,
    "objective": Objective,
    "theme": KeyTheme,
    "point": ThemePoint,
    "webinar": Webinar,
    "presentation": Presentation,
    "presenter": Presenter,
    "role": PresenterRole,
    "organisation": Organisation,
}
TOO_LONG = {"en": _l("Line %(line)d: the English text is longer than %(limit)d characters."),
            "fr": _l("Line %(line)d: the French text is longer than %(limit)d characters.")}
PREFIX = {model: prefix for prefix, model in KINDS.items()}
#: Texts that must keep at least one version (the forms require them too).
NEEDED = {("series", "title"), ("webinar", "title"), ("presentation", "title"), ("theme", "heading")}


class TranslationFileError(ValueError):
    """The file cannot be imported; ``problems`` lists every reason, with its line."""

    def __init__(self, problems: list[str]) -> None:
        super().__init__("\n".join(problems))
        self.problems = problems


@dataclass
class ImportSummary:
    rows: int = 0
    changed: int = 0
    changed_keys: list[str] = field(default_factory=list)

    def __str__(self) -> str:
        return f"translations: {self.rows} rows read, {self.changed} texts changed"


def load_series(slug: str) -> Series | None:
    """A series with everything its export names, loaded in a fixed number of statements."""
    role_organisation = selectinload(Series.webinars).selectinload(Webinar.presentations) \
        .selectinload(Presentation.presenters).selectinload(Presenter.roles).selectinload(PresenterRole.organisation)
    return db.session.scalar(
        db.select(Series).where(Series.slug == slug).options(
            selectinload(Series.objectives),
            selectinload(Series.key_themes).selectinload(KeyTheme.points),
            selectinload(Series.host), selectinload(Series.partners),
            role_organisation,
        )
    )


def _items(series: Series) -> Iterator[tuple[object, str]]:
    """Every translatable object of the series, each once, in reading order, with its context."""
    yield series, f"Series: {series.title_en or series.title_fr}"
    for n, objective in enumerate(series.objectives, start=1):
        yield objective, f"Series objective {n}"
    for n, theme in enumerate(series.key_themes, start=1):
        yield theme, f"Key theme {n}"
        for m, point in enumerate(theme.points, start=1):
            yield point, f"Key theme {n}, point {m}"
    presenters: dict[int, Presenter] = {}
    for webinar in series.webinars:
        yield webinar, f"Webinar: {webinar.title_en or webinar.title_fr}"
        for n, talk in enumerate(webinar.presentations, start=1):
            yield talk, f"Presentation {n} in webinar: {webinar.title_en or webinar.title_fr}"
            for person in talk.presenters:
                presenters.setdefault(person.id, person)
    organisations: dict[int, Organisation] = {}
    for organisation in [series.host, *series.partners]:
        if organisation is not None:
            organisations.setdefault(organisation.id, organisation)
    for person in sorted(presenters.values(), key=lambda p: p.id):
        yield person, f"Presenter: {person.name}"
        for n, role in enumerate(person.roles, start=1):
            yield role, f"Position {n} of {person.name}"
            if role.organisation is not None:
                organisations.setdefault(role.organisation.id, role.organisation)
    for organisation in sorted(organisations.values(), key=lambda o: o.id):
        yield organisation, "Organisation"


def _rows(series: Series) -> Iterator[list[str]]:
    for item, context in _items(series):
        for name in fields_of(item):
            english = getattr(item, f"{name}_en") or ""
            french = getattr(item, f"{name}_fr") or ""
            if english or french:
                yield [f"{PREFIX[type(item)]}.{item.id}.{name}", f"{context} — {name}", english, french]


def export_csv(series: Series) -> bytes:
    """UTF-8 with a byte-order mark (spreadsheets then read the accents right), CRLF rows (RFC 4180)."""
    out = io.StringIO(newline="")
    writer = csv.writer(out, lineterminator="\r\n")
    writer.writerow(COLUMNS)
    writer.writerows(_rows(series))
    return out.getvalue().encode("utf-8-sig")


def _decode(data: bytes) -> str:
    try:
        text = data.decode("utf-8-sig")
    except UnicodeDecodeError as error:
        raise TranslationFileError([str(_l(
            "The file is not UTF-8 text (byte %(position)d). Save it as “CSV UTF-8” and try again.",
            position=error.start))]) from error
    if "\x00" in text:
        raise TranslationFileError([str(_l("The file holds NUL characters: it is not a CSV text file."))])
    return text


def _target(key: str, scope: set[str] | None):
    """(model object, field) for a key, or a reason why not."""
    parts = key.split(".")
    if len(parts) != 3 or parts[0] not in KINDS or parse_id(parts[1]) is None:
        return None, str(_l("unknown key “%(key)s”", key=key))
    model = KINDS[parts[0]]
    if parts[2] not in TRANSLATABLE[model.__name__]:
        return None, str(_l("unknown key “%(key)s”", key=key))
    if scope is not None and key not in scope:
        return None, str(_l("“%(key)s” is not a text of this series", key=key))
    item = db.session.get(model, parse_id(parts[1]))
    if item is None:
        return None, str(_l("“%(key)s” names something that no longer exists", key=key))
    return (item, parts[2]), None


def _column(item, name: str):
    return inspect(type(item)).columns[name]


def _stored_value(item, name: str, text: str) -> str | None:
    """What goes into the column: '' or NULL for an empty text, as the column allows."""
    if text:
        return text
    return None if _column(item, name).nullable else ""


def _names_taken(renamed: dict[int, tuple[int, str]]) -> list[str]:
    """Organisation names must stay unique (case aside), within the file and against the names
    stored now (the database checks each row as it is written, so two cannot swap in one file)."""
    problems, first_line = [], {}
    for organisation_id, (line, name) in sorted(renamed.items(), key=lambda item: item[1]):
        folded = name.lower()
        if not name:
            continue
        if folded in first_line or organisation_name_taken(name, {organisation_id}):
            problems.append(str(_l("Line %(line)d: another organisation is already named “%(name)s”.",
                                   line=line, name=name)))
        first_line.setdefault(folded, line)
    return problems


def import_csv(data: bytes, series: Series | None = None) -> ImportSummary:
    """Store both versions from a translator's file; all rows or none.

    With ``series``, every key must be one its export holds. Raises
    ``TranslationFileError`` listing every problem (line numbers as a
    spreadsheet shows them). Does not commit.
    """
    reader = csv.reader(io.StringIO(_decode(data), newline=""))
    try:
        header = next(reader)
    except StopIteration:
        raise TranslationFileError([str(_l("The file is empty."))]) from None
    except csv.Error as error:
        raise TranslationFileError([str(error)]) from error
    if header != COLUMNS:
        raise TranslationFileError([str(_l("The first line must be the columns %(columns)s; it is %(found)s.",
                                           columns=",".join(COLUMNS), found=",".join(header)))])
    scope = {row[0] for row in _rows(series)} if series is not None else None
    problems: list[str] = []
    writes: list[tuple[object, str, str, str, str]] = []
    seen: set[str] = set()
    renamed: dict[int, tuple[int, str]] = {}  # organisation id: (line, its English name in the file)
    summary = ImportSummary()
    try:
        for row in reader:
            line = reader.line_num
            if not any(row):
                continue
            summary.rows += 1
            if len(row) != len(COLUMNS):
                problems.append(str(_l("Line %(line)d: %(count)d columns instead of 4.", line=line, count=len(row))))
                continue
            key, _context, english, french = row
            if key in seen:
                problems.append(str(_l("Line %(line)d: “%(key)s” appears twice.", line=line, key=key)))
                continue
            seen.add(key)
            target, reason = _target(key, scope)
            if reason:
                problems.append(str(_l("Line %(line)d: %(reason)s.", line=line, reason=reason)))
                continue
            item, name = target
            kind = key.split(".")[0]
            if (kind, name) in NEEDED and not (english.strip() or french.strip()):
                problems.append(str(_l("Line %(line)d: “%(key)s” needs an English or a French text.", line=line, key=key)))
            if kind == "organisation" and name == "name":
                if not english.strip():
                    problems.append(str(_l("Line %(line)d: an organisation keeps its English name.", line=line)))
                renamed[item.id] = (line, english.strip())
            for language, text in (("en", english), ("fr", french)):
                limit = getattr(_column(item, f"{name}_{language}").type, "length", None)
                if limit and len(text) > limit:
                    problems.append(str(TOO_LONG[language]) % {"line": line, "limit": limit})
            writes.append((item, name, english, french, key))
    except csv.Error as error:
        problems.append(str(_l("Line %(line)d: %(reason)s.", line=reader.line_num, reason=str(error))))
    problems += _names_taken(renamed)
    if problems:
        raise TranslationFileError(problems)
    for item, name, english, french, key in writes:
        changed = False
        for language, text in (("en", english), ("fr", french)):
            column = f"{name}_{language}"
            value = _stored_value(item, column, text)
            if (getattr(item, column) or "") != (value or ""):
                setattr(item, column, value)
                changed = True
        if changed:
            summary.changed += 1
            summary.changed_keys.append(key)
    return summary
