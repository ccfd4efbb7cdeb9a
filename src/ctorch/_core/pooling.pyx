# cython: language_level=3
"""ctorch CPU kernels: pooling family (placeholder, filled in by its owner)."""
