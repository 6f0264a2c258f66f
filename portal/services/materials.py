"""Materials and recording after a webinar: links and uploaded files, and who may see them.

Uploads are accepted only when their first bytes show one of the allowed kinds
(PDF, Office Open XML slides/documents/workbooks, plain text, PNG, JPEG) and
that kind matches the file's extension; the size is capped by
``MATERIALS_MAX_BYTES``. Files are stored under ``MATERIALS_FOLDER`` with a
generated name — the uploader's name is only ever offered back as the download
name — so no path an uploader writes can reach the disk. They are always served
as attachments with ``nosniff``, never rendered or executed.

Confirmed registrants see a webinar's materials and recording on their manage
page; everyone sees them on the public page once the organiser marks them public.
"""

from __future__ import annotations

import os
import secrets
import unicodedata
import zipfile
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path

from flask import current_app, send_file
from flask_babel import lazy_gettext as _l
from sqlalchemy import select
from werkzeug.datastructures import FileStorage
from werkzeug.security import safe_join

from portal.extensions import db
from portal.models import Material, MaterialKind, Registration, RegistrationStatus, Webinar
from portal.models.types import utcnow
from portal.services import certificates

#: Extension → the content type the file is served as.
ALLOWED_TYPES = {
    "pdf": "application/pdf",
    "pptx": "application/vnd.openxmlformats-officedocument.presentationml.presentation",
    "docx": "application/vnd.openxmlformats-officedocument.wordprocessingml.document",
    "xlsx": "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
    "txt": "text/plain",
    "png": "image/png",
    "jpg": "image/jpeg",
    "jpeg": "image/jpeg",
}
#: The part every Office Open XML file of that kind carries.
OFFICE_PARTS = {"pptx": "ppt/", "docx": "word/", "xlsx": "xl/"}


class MaterialRefused(Exception):
    """The upload cannot be kept; ``message`` says why, for the form."""

    def __init__(self, message) -> None:
        super().__init__(str(message))
        self.message = message


def folder() -> Path:
    return Path(current_app.config["MATERIALS_FOLDER"])


def max_bytes() -> int:
    return int(current_app.config["MATERIALS_MAX_BYTES"])


def extension_of(filename: str) -> str:
    return filename.rsplit(".", 1)[-1].lower() if "." in filename else ""


def display_name(filename: str) -> str:
    """The uploader's name without folders or control characters, for the download name only."""
    name = filename.replace("\\", "/").rsplit("/", 1)[-1]
    name = "".join(c for c in unicodedata.normalize("NFC", name) if unicodedata.category(c)[0] != "C")
    return name.strip().lstrip(".")[:255] or "file"


def detected_kind(path: Path, extension: str) -> bool:
    """Do the file's first bytes show the kind its extension claims?"""
    with path.open("rb") as handle:
        head = handle.read(8192)
    if extension == "pdf":
        return head.startswith(b"%PDF-")
    if extension == "png":
        return head.startswith(b"\x89PNG\r\n\x1a\n")
    if extension in ("jpg", "jpeg"):
        return head.startswith(b"\xff\xd8\xff")
    if extension in OFFICE_PARTS:
        if not head.startswith(b"PK\x03\x04"):
            return False
        try:
            with zipfile.ZipFile(path) as archive:
                names = archive.namelist()
        except zipfile.BadZipFile:
            return False
        return "[Content_Types].xml" in names and any(n.startswith(OFFICE_PARTS[extension]) for n in names)
    if extension == "txt":
        if b"\x00" in head:
            return False
        try:
            head.decode("utf-8")
        except UnicodeDecodeError as error:
            return error.start > len(head) - 4  # a character cut at the end of the sample
        return True
    return False


def save_upload(webinar: Webinar, upload: FileStorage | None, title: str) -> Material:
    """Check and store an uploaded file; the caller commits. Raises ``MaterialRefused``."""
    if upload is None or not upload.filename:
        raise MaterialRefused(_l("Choose a file to upload."))
    original = display_name(upload.filename)
    extension = extension_of(original)
    if extension not in ALLOWED_TYPES:
        raise MaterialRefused(_l("This kind of file is not accepted. Upload a PDF, PowerPoint (.pptx), Word (.docx), "
                                 "Excel (.xlsx), text (.txt), PNG or JPEG file."))
    target_folder = folder()
    target_folder.mkdir(parents=True, exist_ok=True)
    stored_name = f"{secrets.token_hex(16)}.{extension}"
    path = Path(safe_join(str(target_folder), stored_name))
    try:
        size = _copy_capped(upload, path)
        if size == 0:
            raise MaterialRefused(_l("The file is empty."))
        if not detected_kind(path, extension):
            raise MaterialRefused(_l("The file's content is not a %(kind)s file, whatever its name says.",
                                     kind=extension.upper()))
    except MaterialRefused:
        path.unlink(missing_ok=True)
        raise
    material = Material(webinar_id=webinar.id, kind=MaterialKind.FILE, title=title.strip()[:300] or original,
                        stored_name=stored_name, original_name=original, content_type=ALLOWED_TYPES[extension],
                        size_bytes=size, created_at=utcnow())
    db.session.add(material)
    return material


def _copy_capped(upload: FileStorage, path: Path) -> int:
    limit = max_bytes()
    size = 0
    with path.open("xb") as out:
        while chunk := upload.stream.read(64 * 1024):
            size += len(chunk)
            if size > limit:
                raise MaterialRefused(_l("The file is larger than %(mb)s MB.", mb=round(limit / 1024 / 1024, 1)))
            out.write(chunk)
    return size


def add_link(webinar: Webinar, title: str, url: str) -> Material:
    material = Material(webinar_id=webinar.id, kind=MaterialKind.LINK, title=title.strip()[:300], url=url.strip(),
                        created_at=utcnow())
    db.session.add(material)
    return material


def remove(material: Material) -> None:
    """Delete the row; its file goes once the caller committed (``remove_file``)."""
    db.session.delete(material)


def remove_file(stored_name: str | None) -> None:
    if stored_name:
        path = safe_join(str(folder()), stored_name)
        if path:
            Path(path).unlink(missing_ok=True)


def materials_of(webinar_id: int) -> list[Material]:
    return list(db.session.scalars(select(Material).where(Material.webinar_id == webinar_id)
                                   .order_by(Material.created_at, Material.id)))


def material_of(webinar_id: int, material_id: int) -> Material | None:
    return db.session.scalar(select(Material).where(Material.id == material_id, Material.webinar_id == webinar_id))


def download(material: Material):
    """The file as an attachment, with its recognised type and ``nosniff``; 404 when it is gone."""
    path = safe_join(str(folder()), material.stored_name or "")
    if material.kind != MaterialKind.FILE or path is None or not os.path.isfile(path):
        return None
    response = send_file(path, mimetype=material.content_type, as_attachment=True,
                         download_name=material.original_name or material.stored_name, max_age=0)
    response.headers["X-Content-Type-Options"] = "nosniff"
    response.headers["Content-Security-Policy"] = "default-src 'none'; sandbox"
    response.headers["Cache-Control"] = "private, no-store"
    return response


def public_materials(webinar: Webinar) -> list[Material]:
    """What the public page shows: nothing unless the organiser marked the materials public
    (and never for a vetted audience)."""
    if not webinar.materials_shown_publicly or not webinar.is_public:
        return []
    return materials_of(webinar.id)


# --- the manage page -----------------------------------------------------------------------


@dataclass
class AfterTheWebinar:
    """What a registrant's manage page offers after (or around) the webinar."""

    certificate_ready: bool = False
    series_certificate_ready: bool = False
    recording_url: str | None = None
    materials: list[Material] = field(default_factory=list)


def after_the_webinar(registration: Registration, now: datetime | None = None) -> AfterTheWebinar:
    """Materials and the recording for confirmed registrants; certificates for attendees."""
    now = now or utcnow()
    after = AfterTheWebinar()
    if registration.status != RegistrationStatus.CONFIRMED:
        return after
    webinar = registration.webinar
    after.materials = materials_of(webinar.id)
    after.recording_url = webinar.recording_url
    if certificates.attendance_counts(registration, now):
        existing = certificates.certificate_of(registration)
        after.certificate_ready = existing is None or not existing.revoked
        after.series_certificate_ready = certificates.series_certificate_available(registration, now)
    return after
