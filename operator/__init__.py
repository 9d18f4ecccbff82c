"""Evolved Pipelines operator: turns EvolvedPipeline resources into running variants."""
