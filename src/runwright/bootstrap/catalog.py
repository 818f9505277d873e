"""The shipped profiles (package data under ``profiles/<profile_id>/``): each a
``profile.json`` (a ProfileExtension) with its operators, phase templates, plan template and
test-spec template beside it."""

from __future__ import annotations

from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path

from pydantic import ValidationError as PydanticValidationError

from runwright import specfiles
from runwright.domain.profiles import ProfileExtension
from runwright.errors import ConfigError, NotFound

PROFILES_DIR = Path(__file__).parent / "profiles"
PROFILE_FILE = "profile.json"
#: Selector order: the profiles the UET report names.
BUILTIN_PROFILES = (
    "software-dev-python",
    "data-pipeline",
    "operations",
    "documentation",
    "generic",
)


@dataclass(frozen=True)
class Profile:
    """A profile extension and the folder holding its files."""

    extension: ProfileExtension
    folder: Path

    @property
    def profile_id(self) -> str:
        """The profile's id."""
        return self.extension.profile_id

    def file(self, rel: str) -> Path:
        """A file of the profile, refusing paths that leave its folder."""
        path = (self.folder / rel).resolve()
        if not path.is_relative_to(self.folder.resolve()):
            raise ConfigError(
                f"{self.folder / PROFILE_FILE}: {rel!r} leaves the profile folder",
                path=str(self.folder / PROFILE_FILE),
            )
        return path

    def read(self, rel: str) -> str:
        """The text of a file of the profile."""
        path = self.file(rel)
        try:
            return path.read_text(encoding="utf-8")
        except OSError as exc:
            raise ConfigError(
                f"profile {self.profile_id}: cannot read {rel} ({exc.strerror})",
                hint="the installed profile is incomplete; reinstall runwright",
                path=str(path),
            ) from exc


def load_profile_file(path: Path) -> ProfileExtension:
    """Read and validate one ``profile.json``; errors name the file and the field."""
    data = specfiles.load_json(path)
    try:
        return ProfileExtension.model_validate(data)
    except PydanticValidationError as exc:
        first = exc.errors()[0]
        field = ".".join(str(p) for p in first["loc"]) or "(root)"
        message = str(first["msg"]).removeprefix("Value error, ")
        raise ConfigError(
            f"{path}: {field}: {message}",
            hint="see schemas/profile_extension.schema.json",
            path=str(path),
            field=field,
        ) from exc


@lru_cache(maxsize=1)
def profiles() -> dict[str, Profile]:
    """Every shipped profile, in selector order."""
    found: dict[str, Profile] = {}
    for name in BUILTIN_PROFILES:
        folder = PROFILES_DIR / name
        extension = load_profile_file(folder / PROFILE_FILE)
        if extension.profile_id != name:
            raise ConfigError(
                f"{folder / PROFILE_FILE}: profile_id {extension.profile_id!r} does not match "
                f"its folder {name!r}",
                path=str(folder / PROFILE_FILE),
                field="profile_id",
            )
        found[name] = Profile(extension, folder)
    return found


def profile(profile_id: str) -> Profile:
    """One shipped profile, or NotFound listing them."""
    known = profiles()
    if profile_id not in known:
        raise NotFound(
            f"no profile {profile_id!r}",
            hint=f"use one of: {', '.join(known)} (runwright profile list)",
            field="profile",
        )
    return known[profile_id]
