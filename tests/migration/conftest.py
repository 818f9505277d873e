"""Migration tests migrate from scratch: here ``db_url`` is a fresh, empty database."""

from __future__ import annotations

import pytest


@pytest.fixture
def db_url(empty_db_url: str) -> str:
    """A fresh, empty database on each backend (the template copy would already be migrated)."""
    return empty_db_url
