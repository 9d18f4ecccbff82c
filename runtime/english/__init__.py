"""runtime/english."""
