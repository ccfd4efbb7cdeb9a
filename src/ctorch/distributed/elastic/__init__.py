"""``torch.distributed.elastic``: what launch scripts import from it (the ``record`` decorator of
``multiprocessing.errors``). ctorch's launcher is ``ctorch.distributed.run`` over MPI."""
