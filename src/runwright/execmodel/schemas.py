"""The execution model's artifacts, by kind name, for JSON Schema export."""

from __future__ import annotations

from pydantic import BaseModel

from runwright.domain.execmodel.blocks import Block
from runwright.domain.execmodel.checks import CheckResult
from runwright.domain.execmodel.classifier import Classification
from runwright.domain.execmodel.debug import DebugPacket
from runwright.domain.execmodel.modes import Mode
from runwright.domain.execmodel.operators import Operator
from runwright.domain.execmodel.opruns import OpRun
from runwright.domain.execmodel.records import StopRuleFiring

SCHEMAS: dict[str, type[BaseModel]] = {
    "mode": Mode,
    "operator": Operator,
    "op_run": OpRun,
    "block": Block,
    "debug_packet": DebugPacket,
    "check_result": CheckResult,
    "classification": Classification,
    "stop_rule_firing": StopRuleFiring,
}
