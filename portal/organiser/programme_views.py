"""Editing the programme: series, key themes, webinars, presentations,
presenters and organisations. Views are thin: rules are in
``portal.services.programme_editing``; every change is audited.
"""

from __future__ import annotations

from flask import abort, flash, redirect, render_template, request, url_for
from flask_babel import get_locale
from flask_babel import gettext as _
from sqlalchemy.orm import joinedload, selectinload

from portal.extensions import db
from portal.models import (
    KeyTheme,
    Organisation,
    Presentation,
    Presenter,
    PresenterRole,
    Series,
    Webinar,
    WebinarAudience,
    WebinarLanguage,
    WebinarMessage,
    WebinarStatus,
)
from portal.models.bilingual import LANGUAGES, fields_of
from portal.organiser import bp
from portal.organiser.access import EDITORS, READERS, role_required
from portal.organiser.forms import (
    CancelWebinarForm,
    EmptyForm,
    KeyThemeForm,
    OrganisationForm,
    PresentationForm,
    PresenterForm,
    SeriesForm,
    WebinarForm,
    choices,
)
from portal.services import audit, questions, translations
from portal.services import programme_editing as editing
from portal.services.audience import parse_domain_patterns
from portal.services.programme_editing import ProgrammeError


def _get_or_404(model, object_id: int, *options):
    statement = db.select(model).where(model.id == object_id)
    if options:
        statement = statement.options(*options)
    return db.session.scalars(statement).unique().first() or abort(404)


def _attach_error(form, error: ProgrammeError) -> None:
    field = getattr(form, error.field or "", None)
    if field is None:
        flash(str(error), "error")
    else:
        field.errors = [*field.errors, str(error)]


def _organisation_choices(blank: str) -> list[tuple[int, str]]:
    organisations = db.session.execute(db.select(Organisation.id, Organisation.name).order_by(Organisation.name))
    return choices([(0, blank), *((row.id, row.name) for row in organisations)])


def _english_into_form(form, item) -> None:
    """``Form(obj=item)`` read ``item.title`` (the reader's language); the English field wants ``title_en``.
    The French fields (``title_fr``) are filled by ``obj`` as they are."""
    for name in fields_of(item):
        if name in form:
            form[name].data = getattr(item, f"{name}_en")


def _both(form, name: str, prefix: str | None = None, english_empty: str | None = "") -> dict:
    """{'<name>_en': …, '<name>_fr': …} from a field and its French twin; an empty French is NULL."""
    column = prefix or name
    english = (form[name].data or "").strip()
    french = (form[f"{name}_fr"].data or "").strip()
    return {f"{column}_en": english or english_empty, f"{column}_fr": french or None}


def _lines(form, name: str) -> tuple[list[str], list[str]]:
    return ((form[name].data or "").splitlines(), (form[f"{name}_fr"].data or "").splitlines())


def _move_direction() -> int:
    return -1 if request.form.get("direction") == "up" else 1


# ================================================================ overview

@bp.get("/programme")
@role_required(*READERS)
def programme():
    series = db.session.scalars(
        db.select(Series).options(
            selectinload(Series.webinars).selectinload(Webinar.presentations),
            selectinload(Series.objectives), selectinload(Series.key_themes).selectinload(KeyTheme.points),
        ).order_by(Series.created_at.desc())
    ).all()
    presenters = db.session.scalars(
        db.select(Presenter).options(selectinload(Presenter.roles).joinedload(PresenterRole.organisation))
        .order_by(Presenter.name)
    ).all()
    organisations = db.session.scalars(db.select(Organisation).order_by(Organisation.name)).all()
    # What lacks a language, per item, so the organiser sees what is left to translate.
    items = [*series, *(w for s in series for w in s.webinars), *presenters, *organisations]
    missing = {item: translations.missing_translations(item) for item in items}
    return render_template("organiser/programme.html", series_list=series, presenters=presenters,
                           organisations=organisations, missing=missing)


# ================================================================ series

def _series_form(series: Series | None = None) -> SeriesForm:
    form = SeriesForm(obj=series) if request.method == "GET" and series else SeriesForm()
    form.host_organisation_id.choices = _organisation_choices(_("None"))
    if request.method == "GET" and series:
        _english_into_form(form, series)
        form.host_organisation_id.data = series.host_organisation_id or 0
        form.objectives.data = "\n".join(o.text_en or "" for o in series.objectives)
        form.objectives_fr.data = "\n".join(o.text_fr or "" for o in series.objectives)
    return form


def _series_values(form: SeriesForm) -> dict:
    return {
        **_both(form, "title"),
        **_both(form, "subtitle", english_empty=None),
        "host_organisation_id": form.host_organisation_id.data or None,
        **_both(form, "summary"),
        **_both(form, "closing_remarks"),
        "timezone": form.timezone.data.strip(),
        "allowed_email_domains": "\n".join(parse_domain_patterns(form.allowed_email_domains.data or "")),
    }


@bp.route("/series/new", methods=["GET", "POST"])
@role_required(*EDITORS)
def new_series():
    form = _series_form()
    if not form.validate_on_submit():
        return render_template("organiser/series_form.html", form=form, series=None), _status()
    try:
        slug = editing.choose_slug(Series, form.slug.data, form.title.data or form.title_fr.data)
    except ProgrammeError as error:
        _attach_error(form, error)
        return render_template("organiser/series_form.html", form=form, series=None), 422
    series = Series(slug=slug, **_series_values(form))
    db.session.add(series)
    db.session.flush()
    editing.set_objectives(series, *_lines(form, "objectives"))
    audit.record("create", series, summary=series.title)
    db.session.commit()
    flash(_("Series created (not yet published)."), "info")
    return redirect(url_for("organiser.edit_series", series_id=series.id))


def _status() -> int:
    return 422 if request.method == "POST" else 200


def _series_page(series_id: int) -> Series:
    return _get_or_404(
        Series, series_id,
        selectinload(Series.objectives),
        selectinload(Series.key_themes).selectinload(KeyTheme.points),
        selectinload(Series.webinars),
    )


@bp.route("/series/<int:series_id>", methods=["GET", "POST"])
@role_required(*EDITORS)
def edit_series(series_id: int):
    series = _series_page(series_id)
    form = _series_form(series)
    if not form.validate_on_submit():
        return _render_series(series, form), _status()
    try:
        slug = editing.choose_slug(Series, form.slug.data or series.slug, form.title.data or form.title_fr.data,
                                   series.id)
    except ProgrammeError as error:
        _attach_error(form, error)
        return _render_series(series, form), 422
    changes = audit.apply_changes(series, {"slug": slug, **_series_values(form)})
    changes |= editing.set_objectives(series, *_lines(form, "objectives"))
    if changes:
        audit.record("update", series, summary=series.title, changes=changes)
    db.session.commit()
    flash(_("Series saved."), "info")
    return redirect(url_for("organiser.edit_series", series_id=series.id))


def _render_series(series: Series, form: SeriesForm, theme_form: KeyThemeForm | None = None):
    return render_template("organiser/series_form.html", form=form, series=series,
                           theme_form=theme_form or KeyThemeForm(formdata=None, prefix="theme"),
                           feedback_series_url=_optional_url("organiser.series_feedback", series_id=series.id))


@bp.post("/series/<int:series_id>/publish")
@role_required(*EDITORS)
def publish_series(series_id: int):
    return _set_series_published(series_id, True)


@bp.post("/series/<int:series_id>/unpublish")
@role_required(*EDITORS)
def unpublish_series(series_id: int):
    return _set_series_published(series_id, False)


def _set_series_published(series_id: int, published: bool):
    series = _series_page(series_id) if published else _get_or_404(Series, series_id)
    if published and not series.published:
        asked = _translations_question(series, url_for("organiser.publish_series", series_id=series.id),
                                       url_for("organiser.edit_series", series_id=series.id))
        if asked is not None:
            return asked
    if series.published != published:
        series.published = published
        audit.record("publish" if published else "unpublish", series, summary=series.title)
        db.session.commit()
    flash(_("Series published.") if published else _("Series unpublished."), "info")
    return redirect(url_for("organiser.edit_series", series_id=series.id))


def _translations_question(item, action: str, back: str):
    """None when publishing may go ahead; else the page asking to confirm (or saying why not)."""
    try:
        translations.check_publishable(item, confirmed=request.form.get("confirm_missing") == "yes")
    except translations.TranslationsMissing as missing:
        return render_template("organiser/publish_confirm.html", item=item, missing=missing.missing,
                               refused=missing.refused, action=action, back=back), 409 if missing.refused else 200
    return None


@bp.post("/series/<int:series_id>/delete")
@role_required(*EDITORS)
def delete_series(series_id: int):
    series = _get_or_404(Series, series_id)
    try:
        editing.delete_series(series)
    except ProgrammeError as error:
        db.session.rollback()
        flash(str(error), "error")
        return redirect(url_for("organiser.edit_series", series_id=series_id)), 303
    audit.record("delete", "series", summary=series.title).target_id = series_id
    db.session.commit()
    flash(_("Series deleted."), "info")
    return redirect(url_for("organiser.programme"))


# ---------------------------------------------------------------- key themes

@bp.post("/series/<int:series_id>/themes")
@role_required(*EDITORS)
def add_theme(series_id: int):
    series = _series_page(series_id)
    form = KeyThemeForm(prefix="theme")
    if not form.validate_on_submit():
        return _render_series(series, _series_form(series), form), 422
    theme = KeyTheme(**_both(form, "heading"), position=len(series.key_themes))
    series.key_themes.append(theme)
    db.session.flush()
    editing.set_theme_points(theme, *_lines(form, "points"))
    audit.record("create", theme, summary=f"{series.title}: {theme.heading[:80]}")
    db.session.commit()
    return redirect(url_for("organiser.edit_series", series_id=series.id, _anchor="themes"))


@bp.route("/themes/<int:theme_id>", methods=["GET", "POST"])
@role_required(*EDITORS)
def edit_theme(theme_id: int):
    theme = _get_or_404(KeyTheme, theme_id, selectinload(KeyTheme.points), joinedload(KeyTheme.series))
    form = KeyThemeForm(obj=theme) if request.method == "GET" else KeyThemeForm()
    if request.method == "GET":
        _english_into_form(form, theme)
        form.points.data = "\n".join(p.text_en or "" for p in theme.points)
        form.points_fr.data = "\n".join(p.text_fr or "" for p in theme.points)
    if not form.validate_on_submit():
        return render_template("organiser/theme_form.html", form=form, theme=theme), _status()
    changes = audit.apply_changes(theme, _both(form, "heading"))
    changes |= editing.set_theme_points(theme, *_lines(form, "points"))
    if changes:
        audit.record("update", theme, summary=theme.heading[:80], changes=changes)
    db.session.commit()
    flash(_("Key theme saved."), "info")
    return redirect(url_for("organiser.edit_series", series_id=theme.series_id, _anchor="themes"))


@bp.post("/themes/<int:theme_id>/move")
@role_required(*EDITORS)
def move_theme(theme_id: int):
    theme = _get_or_404(KeyTheme, theme_id)
    series = _series_page(theme.series_id)
    if editing.move(series.key_themes, theme, _move_direction()):
        audit.record("reorder", theme, summary=theme.heading[:80])
        db.session.commit()
    return redirect(url_for("organiser.edit_series", series_id=series.id, _anchor="themes"))


@bp.post("/themes/<int:theme_id>/delete")
@role_required(*EDITORS)
def delete_theme(theme_id: int):
    theme = _get_or_404(KeyTheme, theme_id)
    series_id = theme.series_id
    audit.record("delete", theme, summary=theme.heading[:80])
    db.session.delete(theme)
    db.session.commit()
    flash(_("Key theme deleted."), "info")
    return redirect(url_for("organiser.edit_series", series_id=series_id, _anchor="themes"))


# ================================================================ webinars

def _webinar_form(series: Series, webinar: Webinar | None = None) -> WebinarForm:
    if request.method != "GET" or webinar is None:
        return WebinarForm()
    form = WebinarForm(obj=webinar)
    zone = series.zone
    form.start_date.data, form.start_time.data = editing.to_local(webinar.starts_at, zone)
    form.opens_date.data, form.opens_time.data = editing.to_local(webinar.registration_opens_at, zone)
    form.closes_date.data, form.closes_time.data = editing.to_local(webinar.registration_closes_at, zone)
    form.language.data = webinar.language.value if webinar.language else ""
    _english_into_form(form, webinar)
    form.audience.data = webinar.audience.value
    return form


def _optional_moment(form: WebinarForm, prefix: str, zone):
    day, at = getattr(form, f"{prefix}_date"), getattr(form, f"{prefix}_time")
    if day.data is None and at.data is None:
        return None
    if day.data is None or at.data is None:
        raise ProgrammeError(_("Enter both a date and a time, or neither."), field=f"{prefix}_date")
    try:
        return editing.to_utc(day.data, at.data, zone)
    except ProgrammeError as error:
        raise ProgrammeError(str(error), field=f"{prefix}_time") from error


def _webinar_values(form: WebinarForm, series: Series) -> dict:
    """The form's values in model terms; raises ProgrammeError for impossible times."""
    zone = series.zone
    starts_at = editing.to_utc(form.start_date.data, form.start_time.data, zone)
    opens = _optional_moment(form, "opens", zone)
    closes = _optional_moment(form, "closes", zone)
    editing.check_registration_window(starts_at, opens, closes)
    return {
        "starts_at": starts_at,
        "duration_minutes": form.duration_minutes.data,
        "registration_opens_at": opens,
        "registration_closes_at": closes,
        **_both(form, "title"),
        **_both(form, "description"),
        "language": WebinarLanguage(form.language.data) if form.language.data else None,
        "audience": WebinarAudience(form.audience.data),
        "capacity": form.capacity.data,
        "waitlist_enabled": bool(form.waitlist_enabled.data),
        "join_url": (form.join_url.data or "").strip() or None,
        "recording_url": (form.recording_url.data or "").strip() or None,
        **_both(form, "highlights"),
    }


@bp.route("/series/<int:series_id>/webinars/new", methods=["GET", "POST"])
@role_required(*EDITORS)
def new_webinar(series_id: int):
    series = _get_or_404(Series, series_id)
    form = _webinar_form(series)
    if not form.validate_on_submit():
        return render_template("organiser/webinar_form.html", form=form, series=series, webinar=None), _status()
    try:
        values = _webinar_values(form, series)
        slug = editing.choose_slug(Webinar, form.slug.data, form.title.data or form.title_fr.data)
    except ProgrammeError as error:
        _attach_error(form, error)
        return render_template("organiser/webinar_form.html", form=form, series=series, webinar=None), 422
    webinar = Webinar(series=series, slug=slug, **values)
    db.session.add(webinar)
    db.session.flush()
    audit.record("create", webinar, summary=webinar.title)
    db.session.commit()
    flash(_("Webinar created as a draft."), "info")
    return redirect(url_for("organiser.webinar", webinar_id=webinar.id))


def _webinar_page(webinar_id: int) -> Webinar:
    return _get_or_404(
        Webinar, webinar_id,
        joinedload(Webinar.series),
        selectinload(Webinar.presentations).selectinload(Presentation.presenters),
    )


@bp.get("/webinars/<int:webinar_id>")
@role_required(*READERS)
def webinar(webinar_id: int):
    from portal.services import signups

    webinar = _webinar_page(webinar_id)
    messages = db.session.scalars(
        db.select(WebinarMessage).where(WebinarMessage.webinar_id == webinar.id)
        .order_by(WebinarMessage.created_at.desc())
    ).all()
    counts = signups.webinar_counts([webinar.id]).get(webinar.id)
    return render_template("organiser/webinar.html", webinar=webinar, messages=messages, counts=counts,
                           missing=translations.missing_translations(webinar),
                           answer_bars=questions.choice_counts(webinar, str(get_locale() or "en")),
                           action_form=EmptyForm(), feedback_url=_optional_url("organiser.webinar_feedback", webinar_id=webinar.id))


def _optional_url(endpoint: str, **values) -> str | None:
    """The feedback pages are added by another module; link to them once they exist."""
    from werkzeug.routing import BuildError

    try:
        return url_for(endpoint, **values)
    except BuildError:
        return None


@bp.route("/webinars/<int:webinar_id>/edit", methods=["GET", "POST"])
@role_required(*EDITORS)
def edit_webinar(webinar_id: int):
    webinar = _webinar_page(webinar_id)
    form = _webinar_form(webinar.series, webinar)
    if not form.validate_on_submit():
        return _render_webinar_form(form, webinar), _status()
    try:
        values = _webinar_values(form, webinar.series)
        slug = editing.choose_slug(Webinar, form.slug.data or webinar.slug, form.title.data or form.title_fr.data,
                                   webinar.id)
        risky = editing.risky_webinar_changes(webinar, values["starts_at"], values["capacity"])
        if risky and not form.confirm_changes.data:
            return _ask_to_confirm(form, webinar, risky)
        changes, emailed = _apply_webinar_changes(webinar, {"slug": slug, **values})
    except ProgrammeError as error:
        db.session.rollback()
        _attach_error(form, error)
        return _render_webinar_form(form, _webinar_page(webinar_id)), 422
    if changes:
        audit.record("update", webinar, summary=webinar.title, changes=changes)
    db.session.commit()
    if emailed:
        flash(_("Saved. %(count)d registrants will be emailed the new time.", count=emailed), "info")
    else:
        flash(_("Webinar saved."), "info")
    return redirect(url_for("organiser.webinar", webinar_id=webinar.id))


def _render_webinar_form(form: WebinarForm, webinar: Webinar, confirm_needed: bool = False):
    return render_template("organiser/webinar_form.html", form=form, series=webinar.series, webinar=webinar,
                           confirm_needed=confirm_needed)


def _ask_to_confirm(form: WebinarForm, webinar: Webinar, risky: list[ProgrammeError]):
    """Nothing saved yet: the form comes back whole with each reason at its field and a box to
    tick, so a second submit saves it."""
    db.session.rollback()
    for problem in risky:
        _attach_error(form, problem)
    form.confirm_changes.errors = [_("Tick this box and save again to keep these changes.")]
    return _render_webinar_form(form, _webinar_page(webinar.id), confirm_needed=True), 422


def _apply_webinar_changes(webinar: Webinar, values: dict) -> tuple[dict, int]:
    """Time and capacity changes go through their rules (emails, promotions)."""
    from portal.services import registration as registration_rules

    new_start = values.pop("starts_at")
    new_duration = values.pop("duration_minutes")
    new_capacity = values.pop("capacity")
    old_start, old_duration = webinar.starts_at, webinar.duration_minutes
    changes = audit.apply_changes(webinar, values)
    emailed = editing.reschedule(webinar, new_start, new_duration)
    if old_start != new_start:
        changes["starts_at"] = (old_start, new_start)
    if old_duration != new_duration:
        changes["duration_minutes"] = (old_duration, new_duration)
    if new_capacity != webinar.capacity:
        old_capacity = webinar.capacity
        try:
            registration_rules.change_capacity(webinar, new_capacity)
        except ValueError as error:  # the registration rules' domain errors are ValueErrors
            raise ProgrammeError(str(error), field="capacity") from error
        changes["capacity"] = (old_capacity, new_capacity)
    return changes, emailed


@bp.post("/webinars/<int:webinar_id>/publish")
@role_required(*EDITORS)
def publish_webinar(webinar_id: int):
    return _webinar_status_change(webinar_id, editing.publish_webinar, "publish", _("Webinar published."))


@bp.post("/webinars/<int:webinar_id>/unpublish")
@role_required(*EDITORS)
def unpublish_webinar(webinar_id: int):
    return _webinar_status_change(webinar_id, editing.unpublish_webinar, "unpublish",
                                  _("Webinar back to draft."))


def _webinar_status_change(webinar_id: int, rule, action: str, done: str):
    webinar = _webinar_page(webinar_id) if action == "publish" else _get_or_404(Webinar, webinar_id)
    if action == "publish" and webinar.status == WebinarStatus.DRAFT:
        asked = _translations_question(webinar, url_for("organiser.publish_webinar", webinar_id=webinar.id),
                                       url_for("organiser.webinar", webinar_id=webinar.id))
        if asked is not None:
            return asked
    try:
        rule(webinar)
    except ProgrammeError as error:
        db.session.rollback()
        flash(str(error), "error")
        return redirect(url_for("organiser.webinar", webinar_id=webinar_id)), 303
    audit.record(action, webinar, summary=webinar.title)
    db.session.commit()
    flash(done, "info")
    return redirect(url_for("organiser.webinar", webinar_id=webinar_id))


@bp.route("/webinars/<int:webinar_id>/cancel", methods=["GET", "POST"])
@role_required(*EDITORS)
def cancel_webinar(webinar_id: int):
    webinar = _webinar_page(webinar_id)
    form = CancelWebinarForm()
    if not form.validate_on_submit():
        return render_template("organiser/cancel_webinar.html", form=form, webinar=webinar), _status()
    try:
        emailed = editing.cancel_webinar(webinar, (form.message.data or "").strip(),
                                         (form.message_fr.data or "").strip() or None)
    except ProgrammeError as error:
        db.session.rollback()
        form.message.errors = [str(error)]
        return render_template("organiser/cancel_webinar.html", form=form, webinar=webinar), 409
    audit.record("cancel", webinar, summary=f"{webinar.title}; {emailed} registrants emailed")
    db.session.commit()
    flash(_("Webinar cancelled; %(count)d registrants will be emailed.", count=emailed), "info")
    return redirect(url_for("organiser.webinar", webinar_id=webinar.id))


@bp.post("/webinars/<int:webinar_id>/delete")
@role_required(*EDITORS)
def delete_webinar(webinar_id: int):
    webinar = _get_or_404(Webinar, webinar_id)
    series_id, title = webinar.series_id, webinar.title
    try:
        editing.delete_webinar(webinar)
    except ProgrammeError as error:
        db.session.rollback()
        flash(str(error), "error")
        return redirect(url_for("organiser.webinar", webinar_id=webinar_id)), 303
    audit.record("delete", "webinar", summary=title).target_id = webinar_id
    db.session.commit()
    flash(_("Webinar deleted."), "info")
    return redirect(url_for("organiser.edit_series", series_id=series_id))


# ================================================================ presentations

def _presentation_form(presentation: Presentation | None = None) -> PresentationForm:
    form = PresentationForm(obj=presentation) if request.method == "GET" and presentation else PresentationForm()
    presenters = db.session.execute(db.select(Presenter.id, Presenter.name).order_by(Presenter.name))
    form.presenter_ids.choices = choices((row.id, row.name) for row in presenters)
    if request.method == "GET" and presentation:
        _english_into_form(form, presentation)
        form.presenter_ids.data = [p.id for p in presentation.presenters]
    return form


def _chosen_presenters(ids: list[int]) -> list[Presenter]:
    found = {p.id: p for p in db.session.scalars(db.select(Presenter).where(Presenter.id.in_(ids)))}
    return [found[i] for i in ids if i in found]


@bp.route("/webinars/<int:webinar_id>/presentations/new", methods=["GET", "POST"])
@role_required(*EDITORS)
def new_presentation(webinar_id: int):
    webinar = _webinar_page(webinar_id)
    form = _presentation_form()
    if not form.validate_on_submit():
        return render_template("organiser/presentation_form.html", form=form, webinar=webinar,
                               presentation=None), _status()
    presentation = Presentation(webinar=webinar, **_both(form, "title"), **_both(form, "abstract"),
                                position=len(webinar.presentations))
    db.session.add(presentation)
    db.session.flush()
    editing.set_presenters(presentation, _chosen_presenters(form.presenter_ids.data))
    audit.record("create", presentation, summary=presentation.title[:120])
    db.session.commit()
    flash(_("Presentation added."), "info")
    return redirect(url_for("organiser.webinar", webinar_id=webinar.id, _anchor="presentations"))


@bp.route("/presentations/<int:presentation_id>", methods=["GET", "POST"])
@role_required(*EDITORS)
def edit_presentation(presentation_id: int):
    presentation = _get_or_404(Presentation, presentation_id, selectinload(Presentation.presenters),
                               joinedload(Presentation.webinar))
    form = _presentation_form(presentation)
    if not form.validate_on_submit():
        return render_template("organiser/presentation_form.html", form=form, webinar=presentation.webinar,
                               presentation=presentation), _status()
    changes = audit.apply_changes(presentation, {**_both(form, "title"), **_both(form, "abstract")})
    changes |= editing.set_presenters(presentation, _chosen_presenters(form.presenter_ids.data))
    if changes:
        audit.record("update", presentation, summary=presentation.title[:120], changes=changes)
    db.session.commit()
    flash(_("Presentation saved."), "info")
    return redirect(url_for("organiser.webinar", webinar_id=presentation.webinar_id, _anchor="presentations"))


@bp.post("/presentations/<int:presentation_id>/move")
@role_required(*EDITORS)
def move_presentation(presentation_id: int):
    presentation = _get_or_404(Presentation, presentation_id)
    webinar = _webinar_page(presentation.webinar_id)
    if editing.move(webinar.presentations, presentation, _move_direction()):
        audit.record("reorder", presentation, summary=presentation.title[:120])
        db.session.commit()
    return redirect(url_for("organiser.webinar", webinar_id=webinar.id, _anchor="presentations"))


@bp.post("/presentations/<int:presentation_id>/delete")
@role_required(*EDITORS)
def delete_presentation(presentation_id: int):
    presentation = _get_or_404(Presentation, presentation_id)
    webinar_id = presentation.webinar_id
    audit.record("delete", presentation, summary=presentation.title[:120])
    editing.delete_presentation(presentation)
    db.session.commit()
    flash(_("Presentation deleted."), "info")
    return redirect(url_for("organiser.webinar", webinar_id=webinar_id, _anchor="presentations"))


# ================================================================ presenters

def _presenter_form(presenter: Presenter | None = None) -> PresenterForm:
    form = PresenterForm(obj=presenter) if request.method == "GET" and presenter else PresenterForm()
    choices = _organisation_choices(_("None"))
    for n in range(1, PresenterForm.ROLE_ROWS + 1):
        getattr(form, f"role{n}_organisation_id").choices = choices
    if request.method == "GET" and presenter:
        _english_into_form(form, presenter)
        for n, role in enumerate(presenter.roles[: PresenterForm.ROLE_ROWS], start=1):
            for field in ("title", "unit"):
                for language in LANGUAGES:
                    suffix = "_fr" if language == "fr" else ""
                    form[f"role{n}_{field}{suffix}"].data = getattr(role, f"{field}_{language}")
            getattr(form, f"role{n}_organisation_id").data = role.organisation_id or 0
    return form


def _role_rows(form: PresenterForm) -> list[editing.RoleRow]:
    return [
        editing.RoleRow(**_both(form, f"role{n}_title", prefix="title", english_empty=None),
                        **_both(form, f"role{n}_unit", prefix="unit", english_empty=None),
                        organisation_id=getattr(form, f"role{n}_organisation_id").data or None)
        for n in range(1, PresenterForm.ROLE_ROWS + 1)
    ]


def _presenter_values(form: PresenterForm) -> dict:
    return {
        "name": form.name.data.strip(),
        **_both(form, "honorific", english_empty=None),
        "post_nominals": (form.post_nominals.data or "").strip() or None,
        "is_team": bool(form.is_team.data),
        **_both(form, "bio"),
    }


@bp.route("/presenters/new", methods=["GET", "POST"])
@role_required(*EDITORS)
def new_presenter():
    form = _presenter_form()
    if not form.validate_on_submit():
        return render_template("organiser/presenter_form.html", form=form, presenter=None), _status()
    try:
        slug = editing.choose_slug(Presenter, form.slug.data, form.name.data)
    except ProgrammeError as error:
        _attach_error(form, error)
        return render_template("organiser/presenter_form.html", form=form, presenter=None), 422
    presenter = Presenter(slug=slug, **_presenter_values(form))
    db.session.add(presenter)
    db.session.flush()
    editing.set_roles(presenter, _role_rows(form))
    audit.record("create", presenter, summary=presenter.name)
    db.session.commit()
    flash(_("Presenter added."), "info")
    return redirect(url_for("organiser.programme", _anchor="presenters"))


@bp.route("/presenters/<int:presenter_id>", methods=["GET", "POST"])
@role_required(*EDITORS)
def edit_presenter(presenter_id: int):
    presenter = _get_or_404(Presenter, presenter_id, selectinload(Presenter.roles))
    form = _presenter_form(presenter)
    if not form.validate_on_submit():
        return render_template("organiser/presenter_form.html", form=form, presenter=presenter), _status()
    try:
        slug = editing.choose_slug(Presenter, form.slug.data or presenter.slug, form.name.data, presenter.id)
    except ProgrammeError as error:
        _attach_error(form, error)
        return render_template("organiser/presenter_form.html", form=form, presenter=presenter), 422
    changes = audit.apply_changes(presenter, {"slug": slug, **_presenter_values(form)})
    changes |= editing.set_roles(presenter, _role_rows(form))
    if changes:
        audit.record("update", presenter, summary=presenter.name, changes=changes)
    db.session.commit()
    flash(_("Presenter saved."), "info")
    return redirect(url_for("organiser.programme", _anchor="presenters"))


@bp.post("/presenters/<int:presenter_id>/delete")
@role_required(*EDITORS)
def delete_presenter(presenter_id: int):
    presenter = _get_or_404(Presenter, presenter_id)
    name = presenter.name
    try:
        editing.delete_presenter(presenter)
    except ProgrammeError as error:
        db.session.rollback()
        flash(str(error), "error")
        return redirect(url_for("organiser.edit_presenter", presenter_id=presenter_id)), 303
    audit.record("delete", "presenter", summary=name).target_id = presenter_id
    db.session.commit()
    flash(_("Presenter deleted."), "info")
    return redirect(url_for("organiser.programme", _anchor="presenters"))


# ================================================================ organisations

def _organisation_values(form: OrganisationForm) -> dict:
    return {
        **_both(form, "name"),
        **_both(form, "acronym", english_empty=None),
        "website": (form.website.data or "").strip() or None,
        "country": (form.country.data or "").strip() or None,
    }


@bp.route("/organisations/new", methods=["GET", "POST"])
@bp.route("/organisations/<int:organisation_id>", methods=["GET", "POST"])
@role_required(*EDITORS)
def edit_organisation(organisation_id: int | None = None):
    organisation = _get_or_404(Organisation, organisation_id) if organisation_id else None
    form = OrganisationForm(obj=organisation) if request.method == "GET" else OrganisationForm()
    if request.method == "GET" and organisation is not None:
        _english_into_form(form, organisation)
    template = "organiser/organisation_form.html"
    if not form.validate_on_submit():
        return render_template(template, form=form, organisation=organisation), _status()
    values = _organisation_values(form)
    if editing.organisation_name_taken(values["name_en"], {organisation_id} if organisation_id else set()):
        form.name.errors = [_("An organisation with this name already exists.")]
        return render_template(template, form=form, organisation=organisation), 422
    if organisation is None:
        organisation = Organisation(**values)
        db.session.add(organisation)
        db.session.flush()
        audit.record("create", organisation, summary=organisation.name)
    else:
        changes = audit.apply_changes(organisation, values)
        if changes:
            audit.record("update", organisation, summary=organisation.name, changes=changes)
    db.session.commit()
    flash(_("Organisation saved."), "info")
    return redirect(url_for("organiser.programme", _anchor="organisations"))


@bp.post("/organisations/<int:organisation_id>/delete")
@role_required(*EDITORS)
def delete_organisation(organisation_id: int):
    organisation = _get_or_404(Organisation, organisation_id)
    name = organisation.name
    try:
        editing.delete_organisation(organisation)
    except ProgrammeError as error:
        db.session.rollback()
        flash(str(error), "error")
        return redirect(url_for("organiser.edit_organisation", organisation_id=organisation_id)), 303
    audit.record("delete", "organisation", summary=name).target_id = organisation_id
    db.session.commit()
    flash(_("Organisation deleted."), "info")
    return redirect(url_for("organiser.programme", _anchor="organisations"))
