"""The weighted-retraining core: the loop, its run files, training, weighting, metrics."""
