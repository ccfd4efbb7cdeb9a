"""A CIFAR-style training loop with data augmentation, on FakeData so it runs offline.

The shape of the classic CIFAR-10 tutorial: a ``transforms.Compose`` pipeline (random crop with
padding, horizontal flip, ToTensor, Normalize) on 3x32x32 PIL images, a ``DataLoader``, a
small CNN, ``CrossEntropyLoss`` with SGD + momentum and a StepLR schedule, then test accuracy
and per-class counts. ``FakeData`` stands in for ``CIFAR10(root, download=True)``; its images
are noise, so the "task" here is made learnable by tinting each image with its class colour.

Run: python examples/cifar_style_training.py [--epochs 2] [--size 256]
"""

import argparse
import time

import numpy as np

import ctorch
import ctorch.nn as nn
import ctorch.nn.functional as F
import ctorch.optim as optim
from ctorch.utils.data import DataLoader
from ctorch.vision import datasets, transforms

classes = ("plane", "car", "bird", "cat")
PALETTE = np.array(
    [[1.0, 0.2, 0.2], [0.2, 1.0, 0.2], [0.2, 0.2, 1.0], [1.0, 1.0, 0.2]], dtype=np.float32
)


class Tint:
    """Mix a class colour into the image tensor (so FakeData's noise becomes learnable)."""

    def __call__(self, sample):
        img, target = sample
        colour = ctorch.from_numpy(PALETTE[target][:, None, None])
        return 0.5 * img + 0.5 * colour, target


class TintedFakeData(datasets.FakeData):
    def __getitem__(self, index):
        return Tint()(super().__getitem__(index))


class Net(nn.Module):
    def __init__(self, num_classes=len(classes)):
        super().__init__()
        self.conv1 = nn.Conv2d(3, 8, 5)
        self.pool = nn.MaxPool2d(2, 2)
        self.conv2 = nn.Conv2d(8, 16, 5)
        self.fc1 = nn.Linear(16 * 5 * 5, 64)
        self.fc2 = nn.Linear(64, num_classes)

    def forward(self, x):
        x = self.pool(F.relu(self.conv1(x)))
        x = self.pool(F.relu(self.conv2(x)))
        x = ctorch.flatten(x, 1)
        return self.fc2(F.relu(self.fc1(x)))


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--epochs", type=int, default=3)
    parser.add_argument("--size", type=int, default=256, help="training images")
    parser.add_argument("--batch-size", type=int, default=16)
    args = parser.parse_args()
    ctorch.manual_seed(0)

    normalize = transforms.Normalize((0.5, 0.5, 0.5), (0.5, 0.5, 0.5))
    train_tf = transforms.Compose(
        [
            transforms.RandomCrop(32, padding=4),
            transforms.RandomHorizontalFlip(),
            transforms.ToTensor(),
            normalize,
        ]
    )
    test_tf = transforms.Compose([transforms.ToTensor(), normalize])
    trainset = TintedFakeData(
        size=args.size, image_size=(3, 32, 32), num_classes=len(classes), transform=train_tf
    )
    testset = TintedFakeData(
        size=64,
        image_size=(3, 32, 32),
        num_classes=len(classes),
        transform=test_tf,
        random_offset=10_000,
    )
    trainloader = DataLoader(trainset, batch_size=args.batch_size, shuffle=True)
    testloader = DataLoader(testset, batch_size=32, shuffle=False)

    net = Net()
    criterion = nn.CrossEntropyLoss()
    optimizer = optim.SGD(net.parameters(), lr=0.03, momentum=0.9)
    scheduler = optim.lr_scheduler.StepLR(optimizer, step_size=1, gamma=0.5)

    t0 = time.perf_counter()
    for epoch in range(args.epochs):
        running, seen = 0.0, 0
        for inputs, labels in trainloader:
            optimizer.zero_grad()
            loss = criterion(net(inputs), labels)
            loss.backward()
            optimizer.step()
            running += loss.item() * len(labels)
            seen += len(labels)
        scheduler.step()
        print(
            f"[epoch {epoch + 1}] loss: {running / seen:.3f}  lr now {scheduler.get_last_lr()[0]:g}"
        )
    print(f"Finished training in {time.perf_counter() - t0:.1f} s")

    correct, total = 0, 0
    per_class = {c: [0, 0] for c in classes}
    net.eval()
    with ctorch.no_grad():
        for images, labels in testloader:
            _, predicted = ctorch.max(net(images), 1)
            total += labels.size(0)
            correct += (predicted == labels).sum().item()
            for label, pred in zip(labels, predicted, strict=True):
                per_class[classes[label]][0] += int(label == pred)
                per_class[classes[label]][1] += 1
    print(f"Accuracy of the network on the {total} test images: {100 * correct // total} %")
    for name, (ok, n) in per_class.items():
        print(f"  {name:5s}: {ok}/{n}")


if __name__ == "__main__":
    main()
