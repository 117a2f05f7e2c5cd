"""Flows as data: definition documents (pure, shared with workflows) and their versioned storage."""
