"""The dashboard: a Starlette app over the same client the CLI uses."""

from runwright.web.app import create_app

__all__ = ["create_app"]
