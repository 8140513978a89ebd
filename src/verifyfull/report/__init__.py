"""Reports shared by scan, probe and certs check: one Report, several views.

The views (json, text, sarif, html) only render; they never judge.
"""

from verifyfull.report.model import Report, ReportError, exit_code

__all__ = ["Report", "ReportError", "exit_code"]
