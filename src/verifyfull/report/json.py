"""JSON view of a Report (DESIGN.md contract); every string in it is scrubbed."""

from __future__ import annotations

import json

from verifyfull.report.model import Report
from verifyfull.scrub import scrub_tree


def render(report: Report) -> str:
    return json.dumps(scrub_tree(report.to_json()), indent=2, sort_keys=False) + "\n"
