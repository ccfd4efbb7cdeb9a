"""TensorBoard logging: ``from ctorch.utils.tensorboard import SummaryWriter``.

Writes TensorBoard's event files itself (no tensorboard, TensorFlow or protobuf package
needed); view them with ``tensorboard --logdir runs``.
"""

from .writer import FileWriter, SummaryWriter

__all__ = ["SummaryWriter", "FileWriter"]
