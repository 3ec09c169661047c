"""Generative models and the pipeline's own networks; what each offers is in ``registry``."""
