"""Temporal workflows: deterministic, no I/O, no db or domain imports.

`DATA_CONVERTER` is the one payload converter: every client and worker of this project is
built with it (pydantic models, dataclasses, datetimes, UUIDs all round-trip), so a payload
written by one process is always readable by another.
"""

from temporalio.contrib.pydantic import pydantic_data_converter
from temporalio.converter import DataConverter

DATA_CONVERTER: DataConverter = pydantic_data_converter

__all__ = ["DATA_CONVERTER"]
