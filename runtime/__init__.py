"""Evolved Pipelines runtime: the worker that answers OpenAI-compatible requests."""
