"""The mode registry: the modes in classifier order, the tags and the universal stop rules,
extensible by the project's configuration."""

from __future__ import annotations

from collections.abc import Iterable

from runwright.domain.execmodel.builtin_modes import BUILTIN_MODES, UNIVERSAL_STOP_RULES
from runwright.domain.execmodel.modes import (
    MODEL_ANALYZE,
    Mode,
    ModeExtension,
    StopRule,
)
from runwright.errors import ValidationError


class ModeRegistry:
    """The modes in classifier order (built-ins in the seed's table order, then the project's),
    the tags, and the universal stop rules."""

    def __init__(
        self,
        modes: Iterable[Mode] | None = None,
        *,
        tags: Iterable[str] = (MODEL_ANALYZE,),
        universal_rules: Iterable[StopRule] | None = None,
    ):
        self.modes: tuple[Mode, ...] = tuple(BUILTIN_MODES if modes is None else modes)
        self.tags: tuple[str, ...] = tuple(dict.fromkeys(tags))
        rules = UNIVERSAL_STOP_RULES if universal_rules is None else universal_rules
        self.universal_rules: tuple[StopRule, ...] = tuple(rules)
        self._by_id = {m.mode_id: m for m in self.modes}
        if len(self._by_id) != len(self.modes):
            raise ValidationError("a mode is declared twice in the registry", field="mode_id")
        clash = set(self._by_id) & {t.upper() for t in self.tags}
        if clash:
            raise ValidationError(
                f"{', '.join(sorted(clash))} is both a mode and a tag",
                hint="a tag (like MODEL/ANALYZE) is not a mode; rename one of them",
                field="tags",
            )

    def ids(self) -> list[str]:
        """Mode ids in classifier (table) order."""
        return [m.mode_id for m in self.modes]

    def __contains__(self, mode_id: object) -> bool:
        return mode_id in self._by_id

    def get(self, mode_id: str, *, field: str = "mode") -> Mode:
        """The mode ``mode_id`` (any case), or a ValidationError naming the known modes."""
        return self._by_id[self.check(mode_id, field=field)]

    def check(self, mode_id: str, *, field: str = "mode") -> str:
        """``mode_id`` normalized to upper case if it is a mode; raise naming ``field`` if not."""
        value = (mode_id or "").strip()
        upper = value.upper()
        if upper in self._by_id:
            return upper
        if upper in {t.upper() for t in self.tags}:
            raise ValidationError(
                f"{field}: {value!r} is a tag, not a mode",
                hint=f"pick one of {', '.join(self.ids())} and add {value} as a tag (--tag)",
                field=field,
            )
        raise ValidationError(
            f"{field}: {value!r} is not a mode",
            hint=f"known modes: {', '.join(self.ids())} (see `runwright modes`)",
            field=field,
        )

    def check_tag(self, tag: str) -> str:
        """``tag`` as registered (case-insensitive), or a ValidationError naming the tags."""
        for known in self.tags:
            if known.upper() == tag.strip().upper():
                return known
        raise ValidationError(
            f"tag {tag!r} is not known",
            hint=f"known tags: {', '.join(self.tags) or 'none'} ([execmodel] tags in config)",
            field="tags",
        )

    def stop_rules(self, mode_id: str | None) -> list[StopRule]:
        """The universal rules, then the rules of ``mode_id``."""
        rules = list(self.universal_rules)
        if mode_id is not None and mode_id in self._by_id:
            rules.extend(self._by_id[mode_id].stop_rules)
        return rules

    def extended(
        self, extensions: Iterable[ModeExtension], *, tags: Iterable[str] = ()
    ) -> ModeRegistry:
        """A new registry with ``extensions`` applied (new modes go after the built-ins)."""
        modes = {m.mode_id: m for m in self.modes}
        order = list(modes)
        for ext in extensions:
            base = modes.get(ext.mode_id)
            changes = ext.model_dump(exclude_unset=True, exclude={"mode_id", "extra_keywords"})
            if base is None:
                missing = [f for f in ("intent", "primary_risk") if not changes.get(f)]
                if missing:
                    raise ValidationError(
                        f"new mode {ext.mode_id}: {', '.join(missing)} is required",
                        hint="a project mode needs intent and primary_risk (and keywords)",
                        field=f"modes.{ext.mode_id}.{missing[0]}",
                    )
                mode = Mode.model_validate({"mode_id": ext.mode_id, **changes})
                order.append(ext.mode_id)
            else:
                mode = Mode.model_validate({**base.model_dump(), **changes})
            if ext.extra_keywords:
                merged = list(dict.fromkeys([*mode.keywords, *ext.extra_keywords]))
                mode = mode.model_copy(update={"keywords": merged})
            modes[ext.mode_id] = mode
        return ModeRegistry(
            [modes[i] for i in order],
            tags=[*self.tags, *tags],
            universal_rules=self.universal_rules,
        )


DEFAULT_REGISTRY = ModeRegistry()
