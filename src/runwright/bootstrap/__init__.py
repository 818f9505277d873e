"""Bootstrap and profiles (SPEC §7): `runwright init` discovers a repository, picks one of the
shipped profiles (composing path-based ones), writes `.runwright/`, validates it with
auto-fixes and reports whether the project is ready for workstreams."""

from __future__ import annotations

from runwright.bootstrap.catalog import BUILTIN_PROFILES, Profile, profile, profiles
from runwright.bootstrap.discovery import DiscoveryResult, discover
from runwright.bootstrap.runner import InitResult, init_project

__all__ = [
    "BUILTIN_PROFILES",
    "DiscoveryResult",
    "InitResult",
    "Profile",
    "discover",
    "init_project",
    "profile",
    "profiles",
]
