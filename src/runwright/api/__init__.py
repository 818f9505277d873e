"""The client facade shared by the CLI, the dashboard and user code."""

from runwright.api.client import Client, whoami

__all__ = ["Client", "whoami"]
