"""JSON view of a Report (DESIGN.md contract)."""

from __future__ import annotations

import json

from verifyfull.report.model import Report


def render(report: Report) -> str:
    return json.dumps(report.to_json(), indent=2, sort_keys=False) + "\n"
