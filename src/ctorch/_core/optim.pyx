# cython: language_level=3
"""ctorch CPU kernels: optim family (placeholder, filled in by its owner)."""
