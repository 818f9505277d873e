"""Settings precedence: defaults < config.toml < RUNWRIGHT_* environment < overrides."""

from __future__ import annotations

from pathlib import Path

import pytest

from runwright.config import load_settings
from runwright.errors import ConfigError


def test_defaults_put_the_store_in_the_project_home(tmp_path: Path) -> None:
    """Without configuration the store is SQLite at .runwright/state.db with FULL sync."""
    s = load_settings(cwd=tmp_path, env={})
    assert s.home == tmp_path.resolve() / ".runwright"
    assert s.database_url == f"sqlite:///{s.home / 'state.db'}"
    assert s.sqlite_synchronous == "FULL"
    assert s.project_id == tmp_path.name


def test_the_home_is_found_upward_like_git(tmp_path: Path) -> None:
    """Commands run from a subfolder use the project's .runwright above it."""
    (tmp_path / ".runwright").mkdir()
    sub = tmp_path / "a" / "b"
    sub.mkdir(parents=True)
    assert load_settings(cwd=sub, env={}).project_root == tmp_path.resolve()


def test_file_then_environment_then_overrides_win(tmp_path: Path) -> None:
    """Each layer overrides the one before it, field by field."""
    home = tmp_path / ".runwright"
    home.mkdir()
    (home / "config.toml").write_text(
        '[core]\nlease_seconds = 12\npoll_seconds = 2\nproject_id = "f"\n'
    )
    s = load_settings(
        cwd=tmp_path, env={"RUNWRIGHT_POLL_SECONDS": "3"}, overrides={"project_id": "o"}
    )
    assert s.lease_seconds == 12
    assert s.poll_seconds == 3
    assert s.project_id == "o"


def test_broken_toml_names_the_file(tmp_path: Path) -> None:
    """A config file that is not TOML gives an error naming the file."""
    home = tmp_path / ".runwright"
    home.mkdir()
    (home / "config.toml").write_text("[core\n")
    with pytest.raises(ConfigError) as err:
        load_settings(cwd=tmp_path, env={})
    assert "config.toml" in str(err.value)


def test_an_invalid_value_names_the_field(tmp_path: Path) -> None:
    """A setting of the wrong kind is refused, naming the field."""
    with pytest.raises(ConfigError) as err:
        load_settings(cwd=tmp_path, env={"RUNWRIGHT_SQLITE_SYNCHRONOUS": "OFF"})
    assert err.value.fields["field"] == "sqlite_synchronous"


def test_weaker_sqlite_durability_is_opt_in(tmp_path: Path) -> None:
    """NORMAL synchronous mode is accepted only when asked for."""
    s = load_settings(cwd=tmp_path, env={"RUNWRIGHT_SQLITE_SYNCHRONOUS": "NORMAL"})
    assert s.sqlite_synchronous == "NORMAL"
