"""What every command shares: settings built once, and a client opened on demand."""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

import click

from runwright.api.client import Client
from runwright.config import Settings, load_settings


@dataclass
class AppContext:
    """Lazily-built settings and client for one CLI invocation."""

    home: Path | None = None
    database_url: str | None = None
    debug: bool = False
    _settings: Settings | None = field(default=None, repr=False)
    _client: Client | None = field(default=None, repr=False)

    @property
    def settings(self) -> Settings:
        """Settings from defaults, the config file, the environment and the global flags."""
        if self._settings is None:
            self._settings = load_settings(
                overrides={"home": self.home, "database_url": self.database_url}
            )
        return self._settings

    def client(self, *, migrate: bool | None = None) -> Client:
        """The client, opening (and if needed migrating) the store."""
        if self._client is None:
            self._client = Client.open(self.settings, migrate=migrate)
        return self._client

    def close(self) -> None:
        """Close the client if one was opened."""
        if self._client is not None:
            self._client.close()
            self._client = None


pass_app = click.make_pass_decorator(AppContext)
