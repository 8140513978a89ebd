"""Python code checks (AST): connection sites, ssl module use, credentials and secrets."""

from verifyfull.scan.python import check

__all__ = ["check"]
