"""Reports over plain HTTP: `GET /reports/{name}.csv?from=&to=&bucket=&teamId=&ownerId=`
(or `.xlsx`) streams a dashboard as CSV or as a workbook (`domain.report_exports`), with
the same bearer credentials and the same row scope as the GraphQL query of that dashboard."""

from __future__ import annotations

from typing import Any

from starlette.requests import Request
from starlette.responses import JSONResponse, Response, StreamingResponse
from strawberry import relay

from crm.documents_http import STATUS_OF, request_actor
from domain.auth import AuthConfig
from domain.dashboards import Bucket, DashboardErrorCode
from domain.documents import content_disposition
from domain.errors import DomainError
from domain.report_exports import XLSX_TYPE, csv_report, parse_day, report_file_name, xlsx_report
from resolvers.dashboards import dashboard_filter

REPORT_PATH = "/reports/{name}.csv"
XLSX_REPORT_PATH = "/reports/{name}.xlsx"


def _refused(error: DomainError) -> Response:
    body = {"errors": [{"field": error.field, "code": str(error.code), "message": error.message}]}
    return JSONResponse(body, status_code=STATUS_OF.get(str(error.code), 400))


class _Query:
    """The query string in the shape of the GraphQL DashboardFilterInput."""

    def __init__(self, request: Request) -> None:
        params = request.query_params
        self.start = parse_day(params.get("from"), "from")
        self.end = parse_day(params.get("to"), "to")
        try:
            self.bucket = Bucket(params.get("bucket", "month").lower())
        except ValueError:
            raise DomainError(DashboardErrorCode.INVALID, "day, week or month.", "bucket") from None
        self.team_id = self._id(params.get("teamId"), "teamId")
        self.owner_id = self._id(params.get("ownerId"), "ownerId")
        self.currency = params.get("currency") or None

    @staticmethod
    def _id(value: str | None, field: str) -> relay.GlobalID | None:
        if not value:
            return None
        try:
            return relay.GlobalID.from_id(value)
        except ValueError:
            raise DomainError(DashboardErrorCode.NOT_FOUND, "No such id.", field) from None


class Reports:
    def __init__(self, auth: AuthConfig) -> None:
        self.auth = auth

    async def csv(self, request: Request) -> Response:
        return await self._report(request, "csv")

    async def xlsx(self, request: Request) -> Response:
        return await self._report(request, "xlsx")

    async def _report(self, request: Request, extension: str) -> Response:
        actor = await request_actor(self.auth, request)
        if isinstance(actor, Response):
            return actor
        name = request.path_params["name"]
        try:
            period = dashboard_filter(_Query(request))
            report = csv_report if extension == "csv" else xlsx_report
            body: Any = await report(actor, name, period)
        except DomainError as exc:
            return _refused(exc)
        return StreamingResponse(
            body,
            media_type="text/csv; charset=utf-8" if extension == "csv" else XLSX_TYPE,
            headers={
                "content-disposition": content_disposition(
                    report_file_name(name, period, extension)
                ),
                "x-content-type-options": "nosniff",
                "cache-control": "private, no-store",
            },
        )
