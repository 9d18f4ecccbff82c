"""runtime/api."""
