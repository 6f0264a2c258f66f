"""Materials and recording: uploads checked by content and size, stored under generated names,
served as attachments with nosniff, shown to confirmed registrants and publicly only when made public."""

from __future__ import annotations

import io
import os
import zipfile
from datetime import timedelta

import pytest
from sqlalchemy import select
from werkzeug.datastructures import FileStorage
from werkzeug.test import encode_multipart

from portal.extensions import db
from portal.models import AuditEvent, Material, RegistrationStatus, WebinarAudience
from tests.conftest import csrf_token_from
from tests.factories import make_organiser, make_registration, make_webinar, now, sign_in

PDF = b"%PDF-1.4\n1 0 obj<<>>endobj\ntrailer<<>>\n%%EOF\n"
PNG = b"\x89PNG\r\n\x1a\n" + b"\x00" * 64


def office_file(part: str) -> bytes:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        archive.writestr("[Content_Types].xml", "<Types/>")
        archive.writestr(f"{part}document.xml", "<doc/>")
    return buffer.getvalue()


@pytest.fixture
def editor(app, client, tmp_path):
    app.config["MATERIALS_FOLDER"] = str(tmp_path / "materials")
    organiser = make_organiser("organiser")
    sign_in(client, organiser)
    return organiser


def upload(client, webinar, content: bytes, filename: str, title: str = "Slides", **extra):
    db.session.commit()
    page = client.get(f"/organiser/webinars/{webinar.id}/after").get_data(as_text=True)
    data = {"csrf_token": csrf_token_from(page), "upload-title": title,
            "upload-file": (io.BytesIO(content), filename), **extra}
    return client.post(f"/organiser/webinars/{webinar.id}/materials/upload", data=data,
                       content_type="multipart/form-data")


def fetched(client, path):
    """GET a file download and close it (the file handle is released, as a server would)."""
    response = client.get(path)
    response.get_data()
    response.close()
    return response


def stored_files(app) -> list[str]:
    folder = app.config["MATERIALS_FOLDER"]
    return sorted(os.listdir(folder)) if os.path.isdir(folder) else []


@pytest.mark.parametrize(("content", "filename"), [
    (PDF, "slides.pdf"), (PNG, "diagram.png"), (b"\xff\xd8\xff\xe0" + b"0" * 32, "photo.JPG"),
    (office_file("ppt/"), "deck.pptx"), (office_file("word/"), "handout.docx"), (office_file("xl/"), "data.xlsx"),
    ("Liens utiles — été 2023\n".encode(), "notes.txt"),
])
def test_allowed_kinds_are_kept_under_generated_names(app, client, editor, content, filename):
    webinar = make_webinar()
    assert upload(client, webinar, content, filename).status_code == 303
    material = db.session.scalar(select(Material))
    assert material.original_name == filename and material.size_bytes == len(content)
    assert stored_files(app) == [material.stored_name] and filename not in material.stored_name
    assert db.session.scalar(select(AuditEvent).where(AuditEvent.action == "material_added")) is not None


@pytest.mark.parametrize(("content", "filename", "message"), [
    (b"MZ\x90\x00 executable", "slides.pdf", "not a PDF file"),
    (b"<html><script>alert(1)</script></html>", "page.html", "not accepted"),
    (b"<svg onload=alert(1)>", "image.svg", "not accepted"),
    (PDF, "no-extension", "not accepted"),
    (office_file("xl/"), "deck.pptx", "not a PPTX file"),
    (b"PK\x03\x04 not really a zip", "handout.docx", "not a DOCX file"),
    (b"binary\x00text", "notes.txt", "not a TXT file"),
    (PNG, "picture.jpg", "not a JPG file"),
    (b"", "empty.pdf", "The file is empty."),
])
def test_wrong_content_is_refused_with_a_message_and_nothing_kept(app, client, editor, content, filename, message):
    webinar = make_webinar()
    response = upload(client, webinar, content, filename)
    assert response.status_code == 422
    assert message in response.get_data(as_text=True)
    assert db.session.scalar(select(Material)) is None and stored_files(app) == []


def test_missing_file_and_too_big_are_refused(app, client, editor):
    webinar = make_webinar()
    db.session.commit()
    page = client.get(f"/organiser/webinars/{webinar.id}/after").get_data(as_text=True)
    response = client.post(f"/organiser/webinars/{webinar.id}/materials/upload",
                           data={"csrf_token": csrf_token_from(page), "upload-title": "x"},
                           content_type="multipart/form-data")
    assert response.status_code == 422 and "Choose a file to upload." in response.get_data(as_text=True)

    app.config["MATERIALS_MAX_BYTES"] = 1000
    response = upload(client, webinar, PDF + b"0" * 1000, "big.pdf")
    assert response.status_code == 422 and "larger than" in response.get_data(as_text=True)
    assert stored_files(app) == []
    # Far over the limit, the request itself is refused before anything is read.
    assert upload(client, webinar, PDF + b"0" * 200_000, "huge.pdf").status_code == 413


def test_uploads_above_the_app_wide_request_limit_are_accepted_up_to_the_setting(app, client, editor):
    webinar = make_webinar()
    db.session.commit()
    page = client.get(f"/organiser/webinars/{webinar.id}/after").get_data(as_text=True)
    big = PDF + b"0" * (3 * 1024 * 1024)
    # Encoded here, in memory: the test client would spool a body this size to a file it never closes.
    boundary, body = encode_multipart({"csrf_token": csrf_token_from(page), "upload-title": "Notes",
                                       "upload-file": FileStorage(io.BytesIO(big), "recording-notes.pdf")})
    response = client.post(f"/organiser/webinars/{webinar.id}/materials/upload", data=body,
                           content_type=f"multipart/form-data; boundary={boundary}")
    assert response.status_code == 303
    assert db.session.scalar(select(Material)).size_bytes == len(big)


@pytest.mark.parametrize("filename", ["../../../etc/passwd.pdf", "..\\..\\evil.pdf", "/srv/abs.pdf",
                                      "a/../../b.pdf", ".hidden.pdf", "nul\x00.pdf"])
def test_path_traversal_names_never_reach_the_disk(app, client, editor, tmp_path, filename):
    webinar = make_webinar()
    response = upload(client, webinar, PDF, filename)
    assert response.status_code in (303, 422)
    for stored in stored_files(app):
        assert os.path.dirname(os.path.join(app.config["MATERIALS_FOLDER"], stored)) == app.config["MATERIALS_FOLDER"]
    material = db.session.scalar(select(Material))
    if material is not None:
        assert "/" not in material.original_name and "\\" not in material.original_name
        assert not material.original_name.startswith(".")
    assert not (tmp_path / "evil.pdf").exists()


def test_confirmed_registrants_get_materials_others_do_not_until_public(app, client, editor):
    webinar = make_webinar(starts_at=now() - timedelta(days=1), recording_url="https://video.example/rec")
    _confirmed, token = make_registration(webinar)
    _waiting, waiting_token = make_registration(webinar, status=RegistrationStatus.WAITLISTED)
    assert upload(client, webinar, PDF, "slides.pdf", title="The slides").status_code == 303
    material = db.session.scalar(select(Material))
    page = client.get(f"/organiser/webinars/{webinar.id}/after").get_data(as_text=True)
    client.post(f"/organiser/webinars/{webinar.id}/materials/link",
                data={"csrf_token": csrf_token_from(page), "link-title": "Reading list",
                      "link-url": "https://example.org/reading"})

    manage = client.get(f"/registration/{token}").get_data(as_text=True)
    assert "The slides" in manage and "Reading list" in manage and "https://video.example/rec" in manage
    download = fetched(client, f"/registration/{token}/materials/{material.id}")
    assert download.status_code == 200 and download.data == PDF
    assert download.headers["Content-Disposition"].startswith("attachment;")
    assert download.headers["X-Content-Type-Options"] == "nosniff"
    assert download.mimetype == "application/pdf"

    waiting = client.get(f"/registration/{waiting_token}").get_data(as_text=True)
    assert "The slides" not in waiting and "video.example" not in waiting
    assert client.get(f"/registration/{waiting_token}/materials/{material.id}").status_code == 404

    public = client.get(f"/webinars/{webinar.slug}").get_data(as_text=True)
    assert "The slides" not in public and "video.example" not in public
    assert client.get(f"/webinars/{webinar.slug}/materials/{material.id}").status_code == 404
    assert client.get(f"/api/v1/webinars/{webinar.slug}").get_json()["recording_url"] is None
    for listing in ("/", "/webinars/", f"/series/{webinar.series.slug}"):  # the cards of past webinars
        assert "video.example" not in client.get(listing).get_data(as_text=True), listing

    page = client.get(f"/organiser/webinars/{webinar.id}/after").get_data(as_text=True)
    assert client.post(f"/organiser/webinars/{webinar.id}/after/settings",
                       data={"csrf_token": csrf_token_from(page), "materials_public": "y"}).status_code == 303
    public = client.get(f"/webinars/{webinar.slug}").get_data(as_text=True)
    assert "The slides" in public and "https://video.example/rec" in public
    response = fetched(client, f"/webinars/{webinar.slug}/materials/{material.id}")
    assert response.status_code == 200 and response.headers["X-Content-Type-Options"] == "nosniff"


def test_material_of_another_webinar_is_404_and_removal_deletes_the_file(app, client, editor):
    webinar, other = make_webinar(), make_webinar()
    _registration, token = make_registration(other)
    upload(client, webinar, PDF, "slides.pdf")
    material = db.session.scalar(select(Material))
    assert client.get(f"/registration/{token}/materials/{material.id}").status_code == 404
    page = client.get(f"/organiser/webinars/{webinar.id}/after").get_data(as_text=True)
    path = f"/organiser/webinars/{webinar.id}/materials/{material.id}/delete"
    assert client.post(path, data={}).status_code == 400
    assert client.post(path, data={"csrf_token": csrf_token_from(page)}).status_code == 303
    assert db.session.scalar(select(Material)) is None and stored_files(app) == []


def test_bad_links_are_refused(client, editor):
    webinar = make_webinar()
    db.session.commit()
    page = client.get(f"/organiser/webinars/{webinar.id}/after").get_data(as_text=True)
    for url in ("", "javascript:alert(1)", "not a link", "https://" + "x" * 600 + ".org"):
        response = client.post(f"/organiser/webinars/{webinar.id}/materials/link",
                               data={"csrf_token": csrf_token_from(page), "link-title": "T", "link-url": url})
        assert response.status_code == 422, url


def test_viewers_may_not_upload(app, client):
    webinar = make_webinar()
    sign_in(client, make_organiser("viewer"))
    assert client.get(f"/organiser/webinars/{webinar.id}/after").status_code == 403


def test_a_vetted_audience_never_gets_public_materials_even_when_marked_public(app, client, editor):
    """Approval, restricted and invitation webinars: the recording and the files stay on the
    confirmed participants' own page, whatever the "public" box says."""
    webinar = make_webinar(starts_at=now() - timedelta(days=1), recording_url="https://video.example/rec",
                           audience=WebinarAudience.RESTRICTED, materials_public=True)
    _confirmed, token = make_registration(webinar)
    assert upload(client, webinar, PDF, "slides.pdf", title="The slides").status_code == 303
    material = db.session.scalar(select(Material))
    for listing in (f"/webinars/{webinar.slug}", "/", "/webinars/", f"/series/{webinar.series.slug}"):
        page = client.get(listing).get_data(as_text=True)
        assert "The slides" not in page and "video.example" not in page, listing
    assert client.get(f"/webinars/{webinar.slug}/materials/{material.id}").status_code == 404
    assert "The slides" in client.get(f"/registration/{token}").get_data(as_text=True)


@pytest.mark.parametrize("hours", ["sNaN", "NaN", "Infinity", "-Infinity"])
def test_credited_hours_that_are_not_numbers_are_refused_with_the_form(client, editor, hours):
    webinar = make_webinar(starts_at=now() - timedelta(days=1))
    db.session.commit()
    page = client.get(f"/organiser/webinars/{webinar.id}/after").get_data(as_text=True)
    response = client.post(f"/organiser/webinars/{webinar.id}/after/settings",
                           data={"csrf_token": csrf_token_from(page), "credited_hours": hours})
    assert response.status_code == 422
    assert "between 0.25 and 24" in response.get_data(as_text=True)


def test_a_public_file_download_is_streamed_not_read_into_memory(app):
    """The page cache in front of the app keeps only pages; a file passes through in blocks."""
    import tracemalloc

    from portal.services import materials

    big = PDF + b"%" * (8 * 1024 * 1024)
    webinar = make_webinar(starts_at=now() - timedelta(days=1), materials_public=True)
    # Stored through the service (the test client would keep an 8 MB upload body open).
    material = materials.save_upload(webinar, FileStorage(io.BytesIO(big), "big.pdf"), "Big")
    db.session.commit()
    visitor = app.test_client()  # anonymous: no session cookie, so the page cache is in the way
    tracemalloc.start()
    try:
        response = visitor.get(f"/webinars/{webinar.slug}/materials/{material.id}", buffered=False)
        received = sum(len(block) for block in response.response)
        response.close()
        _current, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    assert response.status_code == 200 and received == len(big)
    assert peak < 2 * 1024 * 1024, f"{peak} bytes held at once for an {len(big)}-byte file"
