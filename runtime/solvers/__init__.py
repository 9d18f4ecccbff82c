"""runtime/solvers."""
