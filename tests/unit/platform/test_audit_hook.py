"""Every use case that commits writes an audit entry (and so an outbox event) first."""

from __future__ import annotations

import ast
from pathlib import Path

import barberpro.application as application_package

APPLICATION = Path(application_package.__file__).parent


def _functions_that_commit() -> list[tuple[str, ast.FunctionDef]]:
    found = []
    for path in sorted(APPLICATION.glob("*.py")):
        tree = ast.parse(path.read_text())
        for node in ast.walk(tree):
            if isinstance(node, ast.FunctionDef):
                calls = [n for n in ast.walk(node) if isinstance(n, ast.Call)]
                if any(isinstance(c.func, ast.Attribute) and c.func.attr == "commit" for c in calls):
                    found.append((f"{path.stem}.{node.name}", node))
    return found


def test_every_committing_use_case_records_an_audit_entry() -> None:
    committing = _functions_that_commit()
    assert len(committing) >= 15  # the walk really found the use cases
    missing = []
    for name, node in committing:
        calls = [n for n in ast.walk(node) if isinstance(n, ast.Call)]
        records = any(
            (isinstance(c.func, ast.Name) and c.func.id in ("record", "_issue"))
            or (isinstance(c.func, ast.Attribute) and c.func.attr == "record")
            for c in calls
        )
        if not records:
            missing.append(name)
    assert missing == [], f"use cases that commit without an audit entry: {missing}"
