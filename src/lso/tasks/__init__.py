"""Task families: each one's data, black box, predictors and evaluation (see ``registry``)."""
