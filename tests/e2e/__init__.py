"""Browser tests (a package, so that its conftest never shadows another conftest module)."""
