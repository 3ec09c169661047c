"""Validity constraints on latent points (see :mod:`lso.constraints.base`)."""
