"""Digits: MNIST readers, the thickness objective, the classifier as a judge."""
