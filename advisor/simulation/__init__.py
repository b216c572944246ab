"""Walk-forward simulation of the advice policy: out-of-sample, with fees (docs/simulation.md)."""
