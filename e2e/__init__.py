"""Local control-plane tooling and end-to-end helpers for Evolved Pipelines."""
