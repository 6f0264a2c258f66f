"""All models, imported here so Alembic and the app see the whole schema."""

from portal.models.accounts import Organiser, Role
from portal.models.attendance import AttendanceImport, ReportFormat, UnmatchedAttendee, UnmatchedResolution
from portal.models.audit import AuditEvent
from portal.models.certificates import Certificate, CertificateKind, Material, MaterialKind
from portal.models.events import (
    KeyTheme,
    Objective,
    Organisation,
    Presentation,
    Presenter,
    PresenterRole,
    Series,
    ThemePoint,
    Webinar,
    WebinarAudience,
    WebinarLanguage,
    WebinarStatus,
)
from portal.models.feedback import FeedbackResponse, FeedbackSubmission, PresentationRating
from portal.models.invitations import Invitation
from portal.models.outbox import OutboxMessage, OutboxStatus, WebinarMessage
from portal.models.publishing import ContentVersion
from portal.models.questions import (
    CHOICE_KINDS,
    Answer,
    PanelQuestion,
    PanelQuestionStatus,
    Question,
    QuestionKind,
)
from portal.models.registrations import (
    AttendanceSource,
    DeclineReason,
    Registration,
    RegistrationStatus,
    Sector,
)
from portal.models.site import SiteIdentity

__all__ = [
    "AttendanceImport", "AttendanceSource", "ContentVersion", "ReportFormat", "UnmatchedAttendee", "UnmatchedResolution",
    "CHOICE_KINDS", "Answer", "PanelQuestion", "PanelQuestionStatus", "Question", "QuestionKind", "AuditEvent", "DeclineReason", "FeedbackResponse", "FeedbackSubmission", "Invitation", "KeyTheme", "Objective",
    "Certificate", "CertificateKind", "Material", "MaterialKind",
    "Organisation", "Organiser", "OutboxMessage", "OutboxStatus", "Presentation",
    "PresentationRating", "Presenter", "PresenterRole", "Registration",
    "RegistrationStatus", "Role", "Sector", "Series", "SiteIdentity", "ThemePoint", "Webinar",
    "WebinarAudience", "WebinarLanguage", "WebinarMessage", "WebinarStatus",
]
