"""FakeData: random images, reproducible per index (``torchvision.datasets.FakeData``)."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from .vision import VisionDataset

__all__ = ["FakeData"]


class FakeData(VisionDataset):
    """``size`` random images of shape ``image_size`` (C, H, W) as PIL images, with targets.

    Item ``i`` is generated from a private generator seeded with ``i + random_offset``, so it is
    the same every time and the global RNG is left untouched.
    """

    def __init__(
        self,
        size: int = 1000,
        image_size: tuple[int, int, int] = (3, 224, 224),
        num_classes: int = 10,
        transform: Callable | None = None,
        target_transform: Callable | None = None,
        random_offset: int = 0,
    ) -> None:
        super().__init__(None, transform=transform, target_transform=target_transform)
        self.size = size
        self.num_classes = num_classes
        self.image_size = image_size
        self.random_offset = random_offset

    def __getitem__(self, index: int) -> tuple[Any, Any]:
        import ctorch

        from ..transforms import ToPILImage

        if index >= len(self):
            raise IndexError(f"{self.__class__.__name__} index out of range")
        g = ctorch.Generator()
        g.manual_seed(index + self.random_offset)
        img = ctorch.randn(*self.image_size, generator=g)
        target: Any = int(ctorch.randint(0, self.num_classes, (1,), generator=g).item())
        img = ToPILImage()(img)
        return self._transform_pair(img, target)

    def __len__(self) -> int:
        return self.size
