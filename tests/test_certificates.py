"""Certificates of attendance end to end: the PDF read back (text, fonts for accents and CJK,
QR code decoded and followed), the public verification page, revoking, the attendee's and the
organiser's downloads, series certificates, roles and bad input."""

from __future__ import annotations

import io
import re
import zipfile
from datetime import timedelta
from urllib.parse import urlsplit

import pypdf
import pypdfium2
import pytest
import zxingcpp
from sqlalchemy import select

from portal.extensions import db
from portal.models import AuditEvent, Certificate, CertificateKind, RegistrationStatus
from tests.conftest import csrf_token_from
from tests.factories import (
    make_organisation,
    make_organiser,
    make_registration,
    make_series,
    make_webinar,
    now,
    sign_in,
)

ZOE = "Zoë Ñúñez-Łukasiewicz"
BRUCE = "李小龍"


def pdf_text(body: bytes) -> str:
    """Every page's text as pypdf reads it.

    pypdf reads the two-byte codes of the CJK fallback font as a NUL plus the character
    ("\\x00李\\x00小…"); PDFium (Chromium's reader) reads them cleanly, see ``pdfium_text``.
    The NULs are dropped so both readers can be held to the same text.
    """
    reader = pypdf.PdfReader(io.BytesIO(body))
    return "\n".join(page.extract_text() for page in reader.pages).replace("\x00", "")


def pdfium_text(body: bytes) -> str:
    document = pypdfium2.PdfDocument(body)
    try:
        return "\n".join(page.get_textpage().get_text_range() for page in document)
    finally:
        document.close()


def qr_urls(body: bytes, page: int = 0) -> list[str]:
    """Render the page as a scanner would see it and decode every QR code on it."""
    document = pypdfium2.PdfDocument(body)
    try:
        image = document[page].render(scale=3).to_pil()
    finally:
        document.close()
    return [code.text for code in zxingcpp.read_barcodes(image)]


def page_count(body: bytes) -> int:
    return len(pypdf.PdfReader(io.BytesIO(body)).pages)


def public_safety():
    from portal.models import Organisation

    return (db.session.scalar(select(Organisation).where(Organisation.name == "Public Safety Canada"))
            or make_organisation(name="Public Safety Canada"))


def held_webinar(series=None, **fields):
    """A published webinar that ended yesterday, its attendance final, in a series hosted by an organisation."""
    series = series or make_series(title="Combatting Online Child Sexual Exploitation", host=public_safety())
    return make_webinar(series, **{"title": "The Use of Technology", "starts_at": now() - timedelta(days=1),
                                   "duration_minutes": 90, "attendance_final_at": now(), **fields})


@pytest.fixture
def editor(app, client):
    organiser = make_organiser("organiser")
    sign_in(client, organiser)
    return organiser


def organiser_token(client) -> str:
    return csrf_token_from(client.get("/organiser/").get_data(as_text=True))


def test_attendee_downloads_a_certificate_whose_qr_code_opens_its_verification_page(client):
    webinar = held_webinar()
    registration, token = make_registration(webinar, full_name=ZOE, email="zoe@example.org", attended=True,
                                            organisation_name="Secret Org")
    db.session.commit()

    manage = client.get(f"/registration/{token}").get_data(as_text=True)
    assert f"/registration/{token}/certificate.pdf" in manage

    response = client.get(f"/registration/{token}/certificate.pdf")
    assert response.status_code == 200 and response.mimetype == "application/pdf"
    assert response.headers["Content-Disposition"].startswith("attachment;")
    text = pdf_text(response.data)
    for expected in (ZOE, "The Use of Technology", "Certificate of attendance", "Public Safety Canada",
                     "Hours credited: 1.5", "90 minutes", "Signature"):
        assert expected in text, expected

    urls = qr_urls(response.data)
    assert len(urls) == 1 and urls[0].startswith(("http://portal.test/certificates/", "http://portal.test/fr/certificates/"))
    assert urls[0] in text  # the same link is printed for people without a phone
    code = urls[0].rsplit("/", 1)[1]
    assert len(code) >= 22  # ≥ 128 bits of base64url

    page = client.get(urlsplit(urls[0]).path)
    assert page.status_code == 200 and page.headers["X-Robots-Tag"] == "noindex"
    html = page.get_data(as_text=True)
    assert "This certificate is valid." in html and ZOE in html and "The Use of Technology" in html
    assert "1.5" in html
    assert "zoe@example.org" not in html and "Secret Org" not in html


def test_chinese_name_prints_and_french_registrants_get_a_french_certificate(client):
    webinar = held_webinar()
    _registration, token = make_registration(webinar, full_name=BRUCE, attended=True, preferred_language="fr")
    db.session.commit()
    body = client.get(f"/registration/{token}/certificate.pdf").data
    text = pdf_text(body)
    assert BRUCE in text and BRUCE in pdfium_text(body)
    assert "Attestation de participation" in text and "1,5" in text
    assert qr_urls(body)[0].startswith(("http://portal.test/certificates/", "http://portal.test/fr/certificates/"))


def test_one_certificate_per_registration_with_the_name_frozen_at_issue(client):
    webinar = held_webinar()
    registration, token = make_registration(webinar, full_name="Ada Lovelace", attended=True)
    db.session.commit()
    first = client.get(f"/registration/{token}/certificate.pdf").data
    registration.full_name = "Ada King"
    db.session.commit()
    second = client.get(f"/registration/{token}/certificate.pdf").data
    assert db.session.scalar(select(db.func.count()).select_from(Certificate)) == 1
    assert "Ada Lovelace" in pdf_text(second) and "Ada King" not in pdf_text(second)
    assert qr_urls(first) == qr_urls(second)


@pytest.mark.parametrize("scene", ["not_attended", "not_ended", "cancelled_registration", "waitlisted",
                                   "cancelled_webinar", "attendance_not_final"])
def test_no_certificate_without_attendance_of_an_ended_webinar(client, scene):
    from portal.models import WebinarStatus

    fields = {"attended": scene != "not_attended"}
    if scene == "cancelled_registration":
        fields["status"] = RegistrationStatus.CANCELLED
    if scene == "waitlisted":
        fields["status"] = RegistrationStatus.WAITLISTED
    webinar = held_webinar(starts_at=now() + timedelta(days=1) if scene == "not_ended" else now() - timedelta(days=1),
                           status=WebinarStatus.CANCELLED if scene == "cancelled_webinar" else WebinarStatus.PUBLISHED,
                           attendance_final_at=None if scene == "attendance_not_final" else now())
    _registration, token = make_registration(webinar, **fields)
    db.session.commit()
    assert "certificate.pdf" not in client.get(f"/registration/{token}").get_data(as_text=True)
    assert client.get(f"/registration/{token}/certificate.pdf").status_code == 404
    assert db.session.scalar(select(db.func.count()).select_from(Certificate)) == 0


def test_a_link_only_gives_its_own_certificate(client):
    webinar = held_webinar()
    _mine, my_token = make_registration(webinar, full_name="Me Myself", attended=True)
    make_registration(webinar, full_name="Someone Else", attended=True)
    db.session.commit()
    text = pdf_text(client.get(f"/registration/{my_token}/certificate.pdf").data)
    assert "Me Myself" in text and "Someone Else" not in text
    assert client.get("/registration/not-a-real-token/certificate.pdf").status_code == 404


@pytest.mark.parametrize("code", ["nope", "x" * 40, "x" * 500, "%00", "ünïcödé"])
def test_unknown_codes_are_404(client, code):
    assert client.get(f"/certificates/{code}").status_code == 404


def test_codes_are_unguessable_and_unique(app):
    webinar = held_webinar()
    for _ in range(5):
        make_registration(webinar, attended=True)
    from portal.services import certificates

    assert certificates.issue_for_webinar(webinar) == 5
    assert certificates.issue_for_webinar(webinar) == 0  # idempotent
    codes = db.session.scalars(select(Certificate.code)).all()
    assert len(set(codes)) == 5 and all(len(c) >= 22 and re.fullmatch(r"[A-Za-z0-9_-]+", c) for c in codes)
    assert Certificate.__table__.c.code.unique  # looked up through its unique index


def test_organiser_revokes_and_the_verification_page_says_revoked(client, editor):
    webinar = held_webinar()
    _registration, token = make_registration(webinar, full_name=ZOE, attended=True)
    db.session.commit()
    url = qr_urls(client.get(f"/registration/{token}/certificate.pdf").data)[0]
    certificate = db.session.scalar(select(Certificate))
    page = client.get(f"/organiser/webinars/{webinar.id}/after").get_data(as_text=True)
    assert ZOE in page and f"/organiser/certificates/{certificate.id}/revoke" in page

    assert client.post(f"/organiser/certificates/{certificate.id}/revoke", data={}).status_code == 400
    response = client.post(f"/organiser/certificates/{certificate.id}/revoke",
                           data={"csrf_token": organiser_token(client)})
    assert response.status_code == 303
    html = client.get(urlsplit(url).path).get_data(as_text=True)
    assert "This certificate was revoked." in html and "is valid" not in html
    event = db.session.scalar(select(AuditEvent).where(AuditEvent.action == "certificate_revoked"))
    assert event is not None and event.organiser_id == editor.id and event.target_id == certificate.id
    # The attendee can no longer download it, and a second revoke changes nothing.
    assert client.get(f"/registration/{token}/certificate.pdf").status_code == 404
    again = client.post(f"/organiser/certificates/{certificate.id}/revoke", data={"csrf_token": organiser_token(client)})
    assert again.status_code == 303
    assert client.post("/organiser/certificates/99999/revoke",
                       data={"csrf_token": organiser_token(client)}).status_code == 404


def test_organiser_downloads_every_certificate_as_zip_and_as_one_pdf(client, editor):
    webinar = held_webinar()
    make_registration(webinar, full_name=ZOE, attended=True)
    make_registration(webinar, full_name=BRUCE, attended=True, preferred_language="fr")
    make_registration(webinar, full_name="Did Not Come", attended=False)
    make_registration(webinar, full_name="Cancelled Person", attended=True, status=RegistrationStatus.CANCELLED)
    db.session.commit()

    response = client.get(f"/organiser/webinars/{webinar.id}/certificates.zip")
    assert response.status_code == 200 and response.mimetype == "application/zip"
    with zipfile.ZipFile(io.BytesIO(response.data)) as archive:
        names = archive.namelist()
        texts = [pdf_text(archive.read(n)) for n in names]
    assert len(names) == 2 and all(n.endswith(".pdf") and "/" not in n for n in names)
    assert any(ZOE in t for t in texts) and any(BRUCE in t for t in texts)

    merged = client.get(f"/organiser/webinars/{webinar.id}/certificates.pdf")
    assert merged.status_code == 200 and page_count(merged.data) == 2
    assert "Did Not Come" not in pdf_text(merged.data) and "Cancelled Person" not in pdf_text(merged.data)
    assert len(qr_urls(merged.data, 1)) == 1


def test_hours_credited_are_set_per_webinar(client, editor):
    webinar = held_webinar()
    make_registration(webinar, attended=True)
    db.session.commit()
    path = f"/organiser/webinars/{webinar.id}/after/settings"
    bad = client.post(path, data={"csrf_token": organiser_token(client), "credited_hours": "-1"})
    assert bad.status_code == 422 and "between 0.25 and 24" in bad.get_data(as_text=True)
    bad = client.post(path, data={"csrf_token": organiser_token(client), "credited_hours": "two"})
    assert bad.status_code == 422
    ok = client.post(path, data={"csrf_token": organiser_token(client), "credited_hours": "2.5"})
    assert ok.status_code == 303
    db.session.expire_all()
    assert webinar.certificate_minutes == 150
    assert "Hours credited: 2.5" in pdf_text(client.get(f"/organiser/webinars/{webinar.id}/certificates.pdf").data)


def test_viewers_may_not_download_or_revoke(client):
    webinar = held_webinar()
    make_registration(webinar, attended=True)
    sign_in(client, make_organiser("viewer"))
    for path in (f"/organiser/webinars/{webinar.id}/certificates.zip", f"/organiser/webinars/{webinar.id}/after"):
        assert client.get(path).status_code == 403


def test_series_certificate_for_people_who_attended_every_webinar(client, editor):
    series = make_series(title="The Series", host=public_safety())
    first = held_webinar(series, title="First Webinar", starts_at=now() - timedelta(days=30), duration_minutes=60)
    second = held_webinar(series, title="Second Webinar", starts_at=now() - timedelta(days=2), duration_minutes=90)
    _a, token = make_registration(first, full_name=ZOE, email="Zoe@Example.org", attended=True)
    make_registration(second, full_name=ZOE, email="zoe@example.org", attended=True)
    _b, half_token = make_registration(first, full_name="Half Way", attended=True)
    db.session.commit()

    assert "series-certificate.pdf" in client.get(f"/registration/{token}").get_data(as_text=True)
    assert "series-certificate.pdf" not in client.get(f"/registration/{half_token}").get_data(as_text=True)
    assert client.get(f"/registration/{half_token}/series-certificate.pdf").status_code == 404

    body = client.get(f"/registration/{token}/series-certificate.pdf").data
    text = pdf_text(body)
    assert ZOE in text and "The Series" in text and "First Webinar" in text and "Second Webinar" in text
    assert "Total hours credited: 2.5" in text
    html = client.get(urlsplit(qr_urls(body)[0]).path).get_data(as_text=True)
    assert "First Webinar" in html and "Second Webinar" in html and "2.5" in html
    client.get(f"/registration/{token}/series-certificate.pdf")
    assert db.session.scalar(select(db.func.count()).select_from(Certificate)
                             .where(Certificate.kind == CertificateKind.SERIES)) == 1

    # One of two is enough once the organiser says so.
    path = f"/organiser/series/{series.id}/certificates/settings"
    assert client.post(path, data={"csrf_token": organiser_token(client), "min_webinars": "0"}).status_code == 422
    assert client.post(path, data={"csrf_token": organiser_token(client), "min_webinars": "1"}).status_code == 303
    assert client.get(f"/registration/{half_token}/series-certificate.pdf").status_code == 200
    response = client.get(f"/organiser/series/{series.id}/certificates.zip")
    with zipfile.ZipFile(io.BytesIO(response.data)) as archive:
        assert len(archive.namelist()) == 2
    assert "Half Way" in client.get(f"/organiser/series/{series.id}/certificates").get_data(as_text=True)


def test_after_page_and_manage_page_issue_a_fixed_number_of_queries(client, editor, count_queries):
    from portal.models import Material, MaterialKind

    counts = {}
    for size in (2, 25):
        webinar = held_webinar(title=f"Webinar of {size}")
        tokens = [make_registration(webinar, attended=True)[1] for _ in range(size)]
        for n in range(size):
            db.session.add(Material(webinar_id=webinar.id, kind=MaterialKind.LINK, title=f"Link {n}",
                                    url=f"https://example.org/{n}"))
        db.session.commit()
        from portal.services import certificates

        certificates.issue_for_webinar(webinar)
        db.session.commit()
        pages = {"after": f"/organiser/webinars/{webinar.id}/after", "manage": f"/registration/{tokens[0]}",
                 "verify": "/certificates/" + db.session.scalar(
                     select(Certificate.code).where(Certificate.webinar_id == webinar.id).limit(1))}
        for name, path in pages.items():
            client.get(path)  # warm caches (sessions, compiled statements)
            with count_queries() as counter:
                assert client.get(path).status_code == 200
            counts.setdefault(name, []).append(counter.count)
    for name, (few, many) in counts.items():
        assert few == many, (name, few, many)


def test_a_series_certificate_lists_its_sessions_in_the_holder_language(app, client, editor):
    """Issued from an English organiser's page, a French holder's certificate names the webinars in French."""
    from portal.services import certificates

    series = make_series(title="The Series", host=public_safety())
    webinars = [held_webinar(series, title=f"Webinar {n}", starts_at=now() - timedelta(days=30 - n)) for n in (1, 2)]
    for webinar in webinars:
        webinar.title_fr = f"Le webinaire {webinar.title[-1]}"
        make_registration(webinar, full_name=ZOE, email="zoe@example.org", attended=True, preferred_language="fr")
    db.session.commit()
    with app.test_request_context("/organiser/"):  # an English request
        assert certificates.issue_for_series(series) == 1
    [certificate] = certificates.series_certificates(series)
    assert [s["title"] for s in certificate.sessions] == ["Le webinaire 1", "Le webinaire 2"]
