"""Composition root: settings, the ASGI app, the Temporal worker and the `crm` CLI."""
