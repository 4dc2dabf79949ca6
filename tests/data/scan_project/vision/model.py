"""A small convolutional classifier."""
import torch
import torch.nn as nn
import torch.nn.functional as F

try:
    from torch.amp import autocast
except ImportError:  # older torch
    from torch.cuda.amp import autocast


class Block(nn.Module):
    def __init__(self, dim: int, act_layer=nn.GELU):
        super().__init__()
        self.conv = nn.Conv2d(dim, dim, 3, padding=1)
        self.norm = nn.BatchNorm2d(dim)
        self.act = act_layer()

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        y = self.act(self.norm(self.conv(x)))
        return x.transpose(2, 3) + y.transpose(2, 3)


class Net(nn.Module):
    def __init__(self, classes: int = 10):
        super().__init__()
        self.stem = nn.Conv2d(3, 16, 3)
        self.blocks = nn.Sequential(*[Block(16) for _ in range(2)])
        self.head = nn.Linear(16, classes)

    def forward(self, x):
        x = self.blocks(F.relu(self.stem(x)))
        x = F.adaptive_avg_pool2d(x, 1).flatten(1)
        return F.log_softmax(self.head(x), dim=-1)


def predict(model, images, F=None):
    with autocast("cuda", dtype=torch.bfloat16):
        logits = model(images)
    if F is not None:
        F.relu(logits)  # F is a parameter here, not torch.nn.functional
    return logits.argmax(dim=-1)
