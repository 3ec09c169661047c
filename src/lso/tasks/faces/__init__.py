"""Faces: generated and CelebA faces, the smile predictors, the judge."""
