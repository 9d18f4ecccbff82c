"""Solvers: the Z3 and Clingo back ends, the portfolio, and the process pool that runs them off the event loop."""
