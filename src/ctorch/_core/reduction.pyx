# cython: language_level=3
"""ctorch CPU kernels: reduction family (placeholder, filled in by its owner)."""
