"""The business: lifecycle machines, services (one module per aggregate), errors and events."""
