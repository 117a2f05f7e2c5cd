"""The process's Prometheus metrics: what the API, the worker and the domain count.

Every label has a bounded set of values (an operation's root field from the schema, a route
template, an outcome, a reason from an enum): never an id, an address or a client's own
operation name, which would grow the series without end. The objects live in
prometheus-client's default registry; `crm/metrics_http.py` serves them, and gauges that are
read from the database (the outbox backlog) are refreshed there, at scrape time.
"""

from __future__ import annotations

from prometheus_client import Counter, Gauge, Histogram

REQUEST_SECONDS = Histogram(
    "crm_http_request_duration_seconds",
    "HTTP requests the API served, by route, method, status and GraphQL operation "
    "(`query contacts`: the operation type and its first root field).",
    ("route", "method", "status", "operation"),
    buckets=(0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0),
)
OUTBOX_BACKLOG = Gauge("crm_outbox_backlog", "Outbox messages waiting to be relayed to Temporal.")
OUTBOX_OLDEST_AGE = Gauge(
    "crm_outbox_oldest_age_seconds",
    "How long the oldest outbox message waiting to be relayed has waited (0: none).",
)
OUTBOX_RELAYED = Counter(
    "crm_outbox_relayed_total", "Outbox messages the relay handled, by outcome.", ("outcome",)
)
EVENT_FAN_OUT_LAG = Histogram(
    "crm_event_fan_out_lag_seconds",
    "From an event's commit to its offer to this process's subscribers.",
    buckets=(0.01, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0, 30.0),
)
WEBHOOK_ATTEMPTS = Counter(
    "crm_webhook_attempts_total",
    "Webhook delivery attempts, by outcome (delivered, failed, refused target).",
    ("outcome",),
)
WEBHOOK_DELIVERIES_FAILED = Counter(
    "crm_webhook_deliveries_failed_total",
    "Webhook deliveries given up after their last attempt.",
)
MESSAGES = Counter(
    "crm_messages_total",
    "Messages (emails) concluded, by status (sent, skipped, failed) and, when skipped, reason.",
    ("status", "reason"),
)
FLOW_RUN_REPORTS = Counter(
    "crm_flow_run_reports_total",
    "Flow run progress reports stored, by the status the run reported (running, waiting, "
    "completed, failed, ...).",
    ("status",),
)
DATABASE_POOL = Gauge(
    "crm_database_pool_connections",
    "The PostgreSQL connection pool of this process: connections by state (in_use, idle), and "
    "its maximum size.",
    ("state",),
)
