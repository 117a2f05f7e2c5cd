"""The ASGI app: GraphQL over HTTP and websockets, health endpoints, middleware, lifespan."""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import AsyncIterator, Awaitable
from datetime import timedelta

from starlette.applications import Starlette
from starlette.middleware import Middleware
from starlette.requests import Request
from starlette.responses import JSONResponse
from starlette.routing import Route, WebSocketRoute
from temporalio.client import Client
from tortoise import Tortoise

from crm.agency_logos_http import AgencyLogos
from crm.booking_http import BookingPage
from crm.campaign_http import CampaignPages
from crm.card_scans_http import CardScanUploads
from crm.documents_http import DocumentFiles
from crm.event_fan_out import event_fan_out
from crm.graphiql_page import ASSETS_PATH, GraphiQLPage
from crm.graphql_http import CrmGraphQL
from crm.imports_http import UPLOAD_PATH, ImportFiles
from crm.logging import configure_logging
from crm.metrics_http import MetricsPage
from crm.middleware import (
    BodySizeLimitMiddleware,
    DatabaseContextMiddleware,
    RequestLogMiddleware,
)
from crm.password_reset_http import PasswordResetPage
from crm.portal_http import PortalPage
from crm.privacy_http import EXPORT_PATH, PrivacyExports
from crm.reports_http import REPORT_PATH, XLSX_REPORT_PATH, Reports
from crm.settings import Environment, Settings
from crm.survey_http import SurveyPage
from crm.tracing import configure_tracing
from crm.unsubscribe_http import UnsubscribePage
from db.connection import database
from domain import tracing
from domain.card_reader import CardReader
from domain.live_events import LiveEvents
from domain.public_pages import (
    BOOKING_PATH,
    CAMPAIGN_LIKE_PATH,
    CAMPAIGN_PATH,
    CAMPAIGN_SIGN_UP_PATH,
    CAMPAIGN_WIDGET_PATH,
    LOGO_PATH,
    PASSWORD_RESET_PATH,
    PORTAL_LINK_PATH,
    PORTAL_SIGN_IN_PATH,
    PORTAL_SIGN_OUT_PATH,
    PORTAL_TICKET_ROUTE,
    PORTAL_TICKETS_PATH,
    SURVEY_PATH,
    UNSUBSCRIBE_PATH,
    WIDGET_SCRIPT_PATH,
)
from domain.rate_limits import DatabaseCounters
from schema import SchemaLimits, build_schema
from schema.imports import ERROR_REPORT_PATH

log = logging.getLogger("crm.api")

READY_TIMEOUT_SECONDS = 2.0


class Readiness:
    """Checks the database and Temporal; keeps one Temporal client once it has connected."""

    def __init__(self, settings: Settings) -> None:
        self.settings = settings
        self._temporal: Client | None = None

    async def database(self) -> bool:
        try:
            await Tortoise.get_connection("default").execute_query("SELECT 1")
        except Exception:
            log.warning("readiness: database unreachable", exc_info=True)
            return False
        return True

    async def temporal(self) -> bool:
        try:
            if self._temporal is None:
                self._temporal = await Client.connect(
                    self.settings.temporal_address, namespace=self.settings.temporal_namespace
                )
            return bool(await self._temporal.service_client.check_health())
        except Exception as exc:
            log.warning("readiness: temporal unreachable: %s", type(exc).__name__)
            self._temporal = None
            return False


def create_app(settings: Settings, card_reader: CardReader | None = None) -> Starlette:
    """The app; `card_reader` shares one OCR model between apps (tests), else it has its own."""
    readiness = Readiness(settings)
    live_events = LiveEvents(settings.live_events())
    ide_page = GraphiQLPage() if settings.graphiql else None
    graphql = CrmGraphQL(
        build_schema(
            SchemaLimits(
                max_depth=settings.max_query_depth,
                max_aliases=settings.max_aliases,
                max_tokens=settings.max_tokens,
                max_cost=settings.max_query_cost,
                introspection=settings.introspection,
            ),
            callers=settings.caller_limits(),
            traced=tracing.enabled(),
        ),
        ide_page=ide_page,
        auth=settings.auth(),
        live_events=live_events,
        webhooks=settings.webhooks(),
        inbound_domain=settings.inbound_domain,
        mailbox_policy=settings.mailbox_policy(),
        storage=settings.storage(),
        links=settings.unsubscribe_links(),
        public_url=settings.public_url,
        merge_undo_window=timedelta(hours=settings.merge_undo_hours),
        ws_ping_seconds=settings.ws_ping_seconds,
        ws_pong_timeout_seconds=settings.ws_pong_timeout_seconds,
        ws_connection_init_timeout_seconds=settings.ws_connection_init_timeout_seconds,
    )

    files = DocumentFiles(settings.auth(), settings.storage(), settings.upload_limits())
    exports = PrivacyExports(settings.auth(), settings.storage())
    reader = card_reader or settings.card_reader()
    cards = CardScanUploads(settings.auth(), reader, settings.storage())
    reports = Reports(settings.auth())
    unsubscribe = UnsubscribePage(settings.unsubscribe_links())
    booking = BookingPage(settings.unsubscribe_links())
    password_reset = PasswordResetPage(settings.unsubscribe_links())
    survey = SurveyPage(settings.unsubscribe_links())
    portal = PortalPage(
        settings.unsubscribe_links(), secure_cookies=settings.public_url.startswith("https://")
    )
    logos = AgencyLogos(settings.storage())
    import_files = ImportFiles(settings.auth(), settings.storage(), settings.import_limits())
    campaigns = CampaignPages(
        settings.unsubscribe_links(),
        settings.campaign_limits(),
        DatabaseCounters(),
        secure_cookies=settings.public_url.startswith("https://"),
    )

    async def healthz(_: Request) -> JSONResponse:
        return JSONResponse({"status": "ok"})

    async def readyz(_: Request) -> JSONResponse:
        async def timed(check: Awaitable[bool]) -> bool:
            try:
                async with asyncio.timeout(READY_TIMEOUT_SECONDS):
                    return await check
            except TimeoutError:
                return False

        database, temporal = await asyncio.gather(
            timed(readiness.database()), timed(readiness.temporal())
        )
        ready = database and temporal
        return JSONResponse(
            {
                "status": "ready" if ready else "not ready",
                "database": database,
                "temporal": temporal,
            },
            status_code=200 if ready else 503,
        )

    @contextlib.asynccontextmanager
    async def lifespan(app: Starlette) -> AsyncIterator[None]:
        async with (
            database(settings.database_url, settings.database_lock_wait) as context,
            event_fan_out(settings.database_url, live_events),
        ):
            app.state.database = context
            app.state.live_events = live_events
            try:
                yield
            finally:
                if card_reader is None:
                    reader.close()

    ide_routes = [Route(f"{ASSETS_PATH}/{{name}}", ide_page.asset)] if ide_page else []
    return Starlette(
        routes=[
            *ide_routes,
            Route("/graphql", graphql, methods=["GET", "POST"]),
            WebSocketRoute("/graphql", graphql),
            Route("/documents", files.upload, methods=["POST"]),
            Route("/documents/{id}", files.download, methods=["GET"]),
            Route("/card-scans", cards.upload, methods=["POST"]),
            Route(EXPORT_PATH, exports.export, methods=["GET"]),
            Route(REPORT_PATH, reports.csv, methods=["GET"]),
            Route(XLSX_REPORT_PATH, reports.xlsx, methods=["GET"]),
            Route(UPLOAD_PATH, import_files.upload, methods=["POST"]),
            Route(ERROR_REPORT_PATH, import_files.error_report, methods=["GET"]),
            Route(LOGO_PATH, logos.show, methods=["GET"]),
            Route(UNSUBSCRIBE_PATH, unsubscribe.show, methods=["GET"]),
            Route(UNSUBSCRIBE_PATH, unsubscribe.change, methods=["POST"]),
            Route(BOOKING_PATH, booking.show, methods=["GET"]),
            Route(BOOKING_PATH, booking.book, methods=["POST"]),
            *(
                [Route("/metrics", MetricsPage(settings.metrics_token).show, methods=["GET"])]
                if settings.metrics_token.get_secret_value()
                else []
            ),
            Route(PASSWORD_RESET_PATH, password_reset.show, methods=["GET"]),
            Route(PASSWORD_RESET_PATH, password_reset.reset, methods=["POST"]),
            Route(CAMPAIGN_PATH, campaigns.page, methods=["GET"]),
            Route(CAMPAIGN_WIDGET_PATH, campaigns.widget, methods=["GET"]),
            Route(CAMPAIGN_LIKE_PATH, campaigns.like, methods=["POST"]),
            Route(CAMPAIGN_SIGN_UP_PATH, campaigns.sign_up, methods=["POST"]),
            Route(WIDGET_SCRIPT_PATH, campaigns.script, methods=["GET"]),
            Route(SURVEY_PATH, survey.show, methods=["GET"]),
            Route(SURVEY_PATH, survey.rate, methods=["POST"]),
            Route(PORTAL_TICKETS_PATH, portal.tickets, methods=["GET"]),
            Route(PORTAL_TICKETS_PATH, portal.open_ticket, methods=["POST"]),
            Route(PORTAL_TICKET_ROUTE, portal.ticket, methods=["GET"]),
            Route(PORTAL_TICKET_ROUTE, portal.reply, methods=["POST"]),
            Route(PORTAL_SIGN_OUT_PATH, portal.sign_out, methods=["POST"]),
            Route(PORTAL_LINK_PATH, portal.show_link, methods=["GET"]),
            Route(PORTAL_LINK_PATH, portal.use_link, methods=["POST"]),
            Route(PORTAL_SIGN_IN_PATH, portal.sign_in_form, methods=["GET"]),
            Route(PORTAL_SIGN_IN_PATH, portal.request_link, methods=["POST"]),
            Route("/healthz", healthz),
            Route("/readyz", readyz),
        ],
        middleware=[
            Middleware(RequestLogMiddleware),
            Middleware(
                BodySizeLimitMiddleware,
                max_bytes=settings.max_body_bytes,
                own_limit_prefixes=("/documents", "/card-scans", UPLOAD_PATH),
            ),
            Middleware(DatabaseContextMiddleware),
        ],
        lifespan=lifespan,
    )


def app_from_environment() -> Starlette:
    """The app from the CRM_* settings, for each process of `crm serve --workers N`."""
    settings = Settings()
    configure_logging(settings.log_level, json_lines=settings.environment is Environment.PRODUCTION)
    configure_tracing(settings, "crm-api")
    return create_app(settings)
