"""domain/lifecycles."""
