"""Figures of the paper's claims: one module per figure; ``python -m figures [--quick]`` runs them all (``--scale tiny`` for tests)."""
