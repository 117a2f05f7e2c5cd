"""Storage: Tortoise models (one module per aggregate), migrations and connection setup."""
