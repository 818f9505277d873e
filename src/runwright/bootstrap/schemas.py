"""The bootstrap part's artifacts, by kind name, for JSON Schema export."""

from __future__ import annotations

from pydantic import BaseModel

from runwright.domain.bootstrap import BootstrapReport, Discovery
from runwright.domain.profiles import ProfileExtension, ProfileMapping, ProjectProfile

SCHEMAS: dict[str, type[BaseModel]] = {
    "project_profile": ProjectProfile,
    "profile_extension": ProfileExtension,
    "profile_mapping": ProfileMapping,
    "discovery": Discovery,
    "bootstrap_report": BootstrapReport,
}
