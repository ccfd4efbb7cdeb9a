"""ctorch's compiled CPU kernels. Knows arrays, never tensors."""
