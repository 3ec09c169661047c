"""Surrogate models of the score for Bayesian optimisation (see ``registry``)."""
