"""The one settings class, read once at start from the environment / `.env` and passed down."""

from __future__ import annotations

from datetime import timedelta
from enum import StrEnum
from pathlib import Path
from typing import Any

import yaml
from pydantic import BaseModel, Field, PrivateAttr, SecretStr
from pydantic_settings import BaseSettings, SettingsConfigDict

from db.event_signals import is_postgres_url
from domain.auth import AuthConfig
from domain.campaign_page import PublicLimits
from domain.card_reader import CardReader, CardReaderLimits
from domain.documents import UploadLimits
from domain.email_accounts import MailboxPolicy
from domain.import_files import ImportLimits
from domain.live_events import LiveEventsConfig
from domain.rate_limits import CallerLimits, RateLimit, api_counters
from domain.signed_links import LinkConfig
from domain.storage import LocalFolderStorage, Storage
from domain.webhook_deliveries import WebhookConfig

REPO_ROOT = Path(__file__).resolve().parent.parent
DEV_SECRET_KEY = "dev-only-secret-key-never-use-in-production"
MIN_SECRET_LENGTH = 32


class Environment(StrEnum):
    DEV = "dev"
    PRODUCTION = "production"


class TaskQueues(BaseModel):
    """Temporal task queues, one per concern so workers can scale them separately."""

    flows: str = "crm-flows"
    webhooks: str = "crm-webhooks"


class TemporalFile(BaseModel):
    """The parts of `temporal.yaml` this process reads: connection and task queues."""

    address: str = "127.0.0.1:7233"
    namespace: str = "default"
    task_queues: TaskQueues = TaskQueues()


def read_yaml(text: str) -> Any:
    """Safe YAML through libyaml (PyYAML's wheels carry it): the pure-Python loader takes tens
    of milliseconds over `temporal.yaml`, which every Settings reads."""
    return yaml.load(text, Loader=yaml.CSafeLoader)


def load_temporal_file(path: Path) -> TemporalFile:
    """Read `temporal.yaml`; environment settings still override the connection."""
    raw: dict[str, Any] = read_yaml(path.read_text()) or {}
    return TemporalFile.model_validate(raw.get("temporal", {}))


class Settings(BaseSettings):
    """Every knob of the process; defaults are the embedded dev stack."""

    model_config = SettingsConfigDict(env_prefix="CRM_", env_file=".env", extra="ignore")

    environment: Environment = Environment.DEV
    data_dir: Path = REPO_ROOT / "data"
    database_url: str = ""
    # How long a write waits for the lock another writer holds before it is refused as BUSY.
    database_lock_wait_seconds: float = Field(default=10.0, gt=0, le=300)
    temporal_config: Path = REPO_ROOT / "temporal.yaml"
    temporal_address: str = ""
    temporal_namespace: str = ""
    api_host: str = "127.0.0.1"
    api_port: int = 8000
    # API processes `crm serve` starts on the one port (uvicorn workers): one per core.
    api_workers: int = Field(default=1, ge=1, le=64)
    smtp_host: str = "127.0.0.1"
    smtp_port: int = 8025
    smtp_username: str = ""
    smtp_password: str = ""
    smtp_use_tls: bool = False
    mail_from: str = "crm@localhost"
    # Where people outside the API reach it (unsubscribe links in emails); https in production.
    public_url: str = "http://127.0.0.1:8000"
    unsubscribe_link_days: int = Field(default=365, gt=0, le=3650)
    booking_link_days: int = Field(default=60, gt=0, le=3650)
    # How long an emailed password reset link works (once).
    password_reset_minutes: int = Field(default=30, gt=0, le=24 * 60)
    # The customer portal: how long an emailed sign-in link works (once), and the session.
    portal_link_minutes: int = Field(default=15, gt=0, le=24 * 60)
    portal_session_hours: int = Field(default=8, gt=0, le=24 * 30)
    # Public campaign pages and widgets (`/c/<agency>/<code>`): a sign-up form sent back sooner
    # than this is a bot's; requests each client address and each campaign may make.
    campaign_form_min_seconds: float = Field(default=3.0, ge=0, le=600)
    campaign_views_per_address_per_minute: int = Field(default=120, gt=0)
    campaign_posts_per_address_per_hour: int = Field(default=30, gt=0)
    campaign_sign_ups_per_campaign_per_minute: int = Field(default=300, gt=0)
    # Broadcasts send at most this many messages a second per worker (the SMTP relay's limit).
    broadcast_rate_per_second: float = Field(default=20.0, gt=0, le=10_000)
    # Inbound mail (`crm inbound`): each agency receives at <mailbox>@<its slug>.<domain>
    # (sales, support, and reply+<token> on everything the CRM sends). Empty turns it off.
    inbound_domain: str = "inbound.localhost"
    inbound_host: str = "127.0.0.1"
    inbound_port: int = 2525
    inbound_max_bytes: int = Field(default=10 * 1024 * 1024, gt=0, le=100 * 1024 * 1024)
    inbound_max_recipients: int = Field(default=20, gt=0, le=1_000)
    # Messages one sender may deliver a minute before the server answers "try later".
    inbound_sender_per_minute: int = Field(default=30, gt=0)
    # Connected IMAP mailboxes: how often the worker reads them, and whether they may be on
    # private addresses (development and tests; production: public hosts only).
    mailbox_poll_seconds: int = Field(default=60, ge=10, le=86_400)
    mailbox_allow_private_hosts: bool = False
    log_level: str = "INFO"
    # Signs access tokens. The default is for the embedded dev stack only: production refuses
    # to start with it (see `model_post_init`).
    secret_key: SecretStr = SecretStr(DEV_SECRET_KEY)
    access_token_minutes: int = Field(default=15, gt=0, le=24 * 60)
    refresh_token_days: int = Field(default=30, gt=0, le=365)
    login_window_minutes: int = Field(default=15, gt=0)
    login_max_failures_per_account: int = Field(default=5, gt=0)
    login_max_failures_per_address: int = Field(default=50, gt=0)
    # An account that signed in from an address this recently is not held by that address's
    # limit (`domain/auth.py`: an office behind one NAT).
    login_known_address_days: int = Field(default=30, gt=0, le=365)
    graphiql: bool | None = None
    introspection: bool = True
    max_body_bytes: int = Field(default=1_000_000, gt=0)
    max_query_depth: int = Field(default=10, gt=0)
    max_aliases: int = Field(default=15, gt=0)
    max_tokens: int = Field(default=2_000, gt=0)
    # The most objects one operation may ask for (`schema/cost.py`); the README says how.
    max_query_cost: int = Field(default=50_000, gt=0)
    # What one caller (a user, an API key, an anonymous address) may spend a minute: requests,
    # and query cost (the objects its operations may ask for). 0 turns a limit off.
    rate_requests_per_minute: int = Field(default=1_200, ge=0)
    rate_cost_per_minute: int = Field(default=2_000_000, ge=0)
    # Prometheus metrics (docs/operations.md): the API serves /metrics only with this token set
    # and sent (`Authorization: Bearer ...`); the worker serves it on its own listener
    # (`host:port`, empty: none), asking for the token too when it is set.
    metrics_token: SecretStr = SecretStr("")
    worker_metrics_address: str = ""
    # OpenTelemetry traces (crm/tracing.py): an OTLP/HTTP traces URL turns them on (so do the
    # standard OTEL_EXPORTER_OTLP_* variables); the service name defaults to the process's part.
    otel_endpoint: str = ""
    otel_service_name: str = ""
    # Subscriptions (graphql-transport-ws): see the README, "Following every change".
    subscription_queue_size: int = Field(default=1_000, gt=0)
    subscription_poll_seconds: float = Field(default=2.0, gt=0)
    subscription_reauth_seconds: float = Field(default=30.0, gt=0)
    ws_ping_seconds: float = Field(default=15.0, gt=0)
    ws_pong_timeout_seconds: float = Field(default=10.0, gt=0)
    ws_connection_init_timeout_seconds: float = Field(default=10.0, gt=0)
    # Webhooks: private, loopback and link-local targets are refused unless allowed here.
    webhook_allow_private_targets: bool = False
    webhook_timeout_seconds: float = Field(default=10.0, gt=0, le=60)
    webhook_max_attempts: int = Field(default=8, gt=0, le=50)
    webhook_first_retry_seconds: float = Field(default=10.0, gt=0)
    webhook_longest_retry_seconds: float = Field(default=3_600.0, gt=0)
    webhook_disable_after_failures: int = Field(default=5, gt=0)
    # Documents: files kept in a local folder (default `<data_dir>/documents`).
    storage_dir: Path | None = None
    max_upload_bytes: int = Field(default=20 * 1024 * 1024, gt=0)
    # Deleted documents keep their bytes this long (a window to undo by hand), then the daily
    # purge (the worker's schedule, or `crm documents purge`) erases them.
    document_retention_days: int = Field(default=30, ge=0, le=3650)
    upload_content_types: list[str] = []  # e.g. ["application/pdf"]; empty accepts any
    # Visiting cards: the largest photo (bytes, pixels) and how long reading one may take.
    card_max_bytes: int = Field(default=8 * 1024 * 1024, gt=0)
    card_max_pixels: int = Field(default=40_000_000, gt=0)
    card_read_timeout_seconds: float = Field(default=30.0, gt=0, le=600)
    # Imports (CSV or XLSX): the largest file, the most data rows and columns, rows a batch.
    import_max_bytes: int = Field(default=20 * 1024 * 1024, gt=0, le=1024 * 1024 * 1024)
    import_max_rows: int = Field(default=200_000, gt=0, le=10_000_000)
    import_max_columns: int = Field(default=100, gt=0, le=1_000)
    import_batch_rows: int = Field(default=500, gt=0, le=10_000)
    # How long a merge of contacts or customers can be undone (`undoMerge`).
    merge_undo_hours: int = Field(default=72, gt=0, le=24 * 365)

    _task_queues: TaskQueues = PrivateAttr(default_factory=TaskQueues)

    def model_post_init(self, __context: Any) -> None:
        if self.environment is Environment.PRODUCTION:
            secret = self.secret_key.get_secret_value()
            if secret == DEV_SECRET_KEY or len(secret) < MIN_SECRET_LENGTH:
                raise ValueError(
                    f"CRM_SECRET_KEY must be set to a random string of at least "
                    f"{MIN_SECRET_LENGTH} characters in production"
                )
            if not self.public_url.startswith("https://"):
                raise ValueError("CRM_PUBLIC_URL must be an https:// address in production")
        if not self.database_url:
            self.database_url = f"sqlite://{self.data_dir / 'crm.sqlite3'}"
        temporal = load_temporal_file(self.temporal_config)
        self.temporal_address = self.temporal_address or temporal.address
        self.temporal_namespace = self.temporal_namespace or temporal.namespace
        self._task_queues = temporal.task_queues
        if self.graphiql is None:
            self.graphiql = self.environment is Environment.DEV
        if self.storage_dir is None:
            self.storage_dir = self.data_dir / "documents"

    @property
    def database_lock_wait(self) -> timedelta:
        return timedelta(seconds=self.database_lock_wait_seconds)

    @property
    def task_queues(self) -> TaskQueues:
        return self._task_queues

    def caller_limits(self) -> CallerLimits | None:
        """The API's limits per caller, counted in the database on PostgreSQL (shared by every
        API process) and in the process on SQLite (`domain/rate_limits.py` says why)."""
        minute = timedelta(minutes=1)
        requests, cost = self.rate_requests_per_minute, self.rate_cost_per_minute
        if not requests and not cost:
            return None
        return CallerLimits(
            counters=api_counters(postgres=is_postgres_url(self.database_url)),
            requests=RateLimit("requests", requests, minute) if requests else None,
            cost=RateLimit("cost", cost, minute) if cost else None,
        )

    def live_events(self) -> LiveEventsConfig:
        return LiveEventsConfig(
            queue_size=self.subscription_queue_size,
            poll_seconds=self.subscription_poll_seconds,
            reauth_seconds=self.subscription_reauth_seconds,
        )

    def webhooks(self) -> WebhookConfig:
        return WebhookConfig(
            allow_private_targets=self.webhook_allow_private_targets,
            timeout_seconds=self.webhook_timeout_seconds,
            max_attempts=self.webhook_max_attempts,
            first_retry_seconds=self.webhook_first_retry_seconds,
            longest_retry_seconds=self.webhook_longest_retry_seconds,
            disable_after_failures=self.webhook_disable_after_failures,
        )

    def storage(self) -> Storage:
        return LocalFolderStorage(self.storage_dir or self.data_dir / "documents")

    def import_limits(self) -> ImportLimits:
        return ImportLimits(
            max_bytes=self.import_max_bytes,
            max_rows=self.import_max_rows,
            max_columns=self.import_max_columns,
            batch_rows=self.import_batch_rows,
        )

    def upload_limits(self) -> UploadLimits:
        return UploadLimits(
            max_bytes=self.max_upload_bytes,
            allowed_content_types=frozenset(t.lower() for t in self.upload_content_types),
        )

    def card_reader(self) -> CardReader:
        """A reader with its own OCR thread (one per process: the API's app makes one)."""
        return CardReader(
            CardReaderLimits(
                max_bytes=self.card_max_bytes,
                max_pixels=self.card_max_pixels,
                timeout_seconds=self.card_read_timeout_seconds,
            )
        )

    def unsubscribe_links(self) -> LinkConfig:
        return LinkConfig(
            public_url=self.public_url,
            secret_key=self.secret_key,
            lifetime=timedelta(days=self.unsubscribe_link_days),
            booking_lifetime=timedelta(days=self.booking_link_days),
            reset_lifetime=timedelta(minutes=self.password_reset_minutes),
            inbound_domain=self.inbound_domain,
            portal_link_lifetime=timedelta(minutes=self.portal_link_minutes),
            portal_session_lifetime=timedelta(hours=self.portal_session_hours),
        )

    def campaign_limits(self) -> PublicLimits:
        return PublicLimits(
            views_per_address=RateLimit(
                "campaign-views", self.campaign_views_per_address_per_minute, timedelta(minutes=1)
            ),
            posts_per_address=RateLimit(
                "campaign-posts", self.campaign_posts_per_address_per_hour, timedelta(hours=1)
            ),
            sign_ups_per_campaign=RateLimit(
                "campaign-sign-ups",
                self.campaign_sign_ups_per_campaign_per_minute,
                timedelta(minutes=1),
            ),
            min_fill=timedelta(seconds=self.campaign_form_min_seconds),
        )

    def mailbox_policy(self) -> MailboxPolicy:
        return MailboxPolicy(
            secret_key=self.secret_key, allow_private_hosts=self.mailbox_allow_private_hosts
        )

    def auth(self) -> AuthConfig:
        return AuthConfig(
            secret_key=self.secret_key,
            access_ttl=timedelta(minutes=self.access_token_minutes),
            refresh_ttl=timedelta(days=self.refresh_token_days),
            failure_window=timedelta(minutes=self.login_window_minutes),
            max_failures_per_account=self.login_max_failures_per_account,
            max_failures_per_address=self.login_max_failures_per_address,
            known_address_window=timedelta(days=self.login_known_address_days),
        )
