"""Latent optimisers: the grid oracle, BO searches, the code-grid search (see ``registry``)."""
