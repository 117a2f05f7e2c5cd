"""Temporal activities: the only bridge from workflows to the domain, email and the outside."""
