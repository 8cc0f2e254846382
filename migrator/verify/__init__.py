"""Numeric verification of each rewrite against the reference model."""
