"""ctorch: a PyTorch-style deep-learning library on NumPy."""

__version__ = "0.1.0"
