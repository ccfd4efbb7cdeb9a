"""Imports a torch module ctorch does not provide."""

import torch
import torch.nn

print("before")
import torch.definitely_not_a_module  # noqa: E402,F401

print("not reached")
