"""runtime/programs/defaults."""
