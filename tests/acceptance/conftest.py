"""Fixtures shared by the acceptance tests."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest

from tests.web import chromium


@pytest.fixture(scope="session")
def browser() -> Iterator[Any]:
    """One headless Chromium per test process, shared by every dashboard test it runs (each
    test opens its own browser context); a failure under CI=true when it is not installed."""
    with chromium() as b:
        yield b
