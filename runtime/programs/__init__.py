"""runtime/programs."""
