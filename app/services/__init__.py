"""Services: permissions and rules, one class per resource. Handlers call exactly one
service method; services call the store once per write and publish the resulting event
(``app.events``). The runtime (``app/runtime.py``) builds them and the engines they use."""

from __future__ import annotations

from datetime import timedelta

from app.broker.base import Broker
from app.events.publisher import EventPublisher
from app.mail.worker import MailWorker
from app.services.account import AccountService
from app.services.account_emails import AccountEmailService
from app.services.admin import AdminService
from app.services.analytics import AnalyticsService
from app.services.attachments import AttachmentService
from app.services.auth import AuthService
from app.services.boards import BoardService
from app.services.cache import ReadCache
from app.services.checklists import ChecklistService
from app.services.columns import ColumnService
from app.services.comments import CommentService
from app.services.documents import TaskDocumentService
from app.services.idempotency import IdempotencyService
from app.services.importing.service import ImportService
from app.services.invitations import InvitationService
from app.services.notifications import NotificationService
from app.services.oidc import OidcService
from app.services.preferences import PreferenceService
from app.services.recurrence import RecurrenceService
from app.services.stream_tickets import StreamTicketService
from app.services.tasks import TaskService
from app.services.tokens import ApiTokenService
from app.services.trash import TrashService
from app.services.two_factor import TwoFactorService
from app.services.watching import WatchService
from app.services.webhooks import WebhookService
from app.settings import Settings
from app.store.base import Store
from app.webhooks.worker import WebhookWorker


class Services:
    def __init__(
        self,
        settings: Settings,
        store: Store,
        broker: Broker,
        publisher: EventPublisher,
        webhook_worker: WebhookWorker,
        mail_worker: MailWorker,
    ) -> None:
        cache = ReadCache(broker, enabled=bool(settings.redis_url) and settings.cache)
        self.preferences = PreferenceService(store, mail_worker.links, mail_worker.enabled)
        self.auth = AuthService(settings, store, broker, cache)
        self.admin = AdminService(settings, store, self.auth)
        self.oidc = OidcService(settings, store, broker, self.auth)
        self.account_emails = AccountEmailService(settings, store, mail_worker.links, self.auth, mail_worker.wake)
        self.boards = BoardService(store, publisher, cache, self.preferences)
        self.watching = WatchService(store, self.preferences)
        self.documents = TaskDocumentService(store, publisher, settings.document_settle_seconds, self.watching)
        self.account = AccountService(store, self.auth, self.boards, self.account_emails)
        self.recurrences = RecurrenceService(store, publisher, self.watching)
        self.tasks = TaskService(
            store, publisher, cache, self.documents, self.preferences, self.watching, self.recurrences.task_completed
        )
        self.comments = CommentService(store, publisher, self.preferences, self.watching)
        self.attachments = AttachmentService(
            settings.attachment_max_bytes, settings.board_attachment_quota_bytes, store, publisher, self.watching
        )
        self.columns = ColumnService(store, publisher)
        self.checklists = ChecklistService(store, publisher, self.watching)
        self.notifications = NotificationService(store)
        self.tokens = ApiTokenService(store, broker)
        self.two_factor = TwoFactorService(store, broker)
        self.idempotency = IdempotencyService(broker)
        self.stream_tickets = StreamTicketService(broker, self.auth)
        self.analytics = AnalyticsService(store)
        self.imports = ImportService(settings, store, publisher, self.preferences)
        self.webhooks = WebhookService(store, webhook_worker.guard, webhook_worker.wake)
        self.trash = TrashService(settings.trash_retention_days, store, publisher, self.watching)
        self.invitations = InvitationService(timedelta(days=settings.invitation_ttl_days), store, publisher)
