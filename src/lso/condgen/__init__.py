"""Conditional generation by Bayesian optimisation in a 2-D latent space (Krasser 2018).

A VAE trained jointly with a label predictor, a separate classifier as black box, and a GP
searching the latent space for points that decode to a chosen digit.
"""
