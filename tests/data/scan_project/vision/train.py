"""Training loop."""
import torch
from torch import optim

from .model import Net

torch.backends.cuda.matmul.allow_tf32 = True
device = "cuda" if torch.cuda.is_available() else "cpu"


def train(loader, epochs: int = 1):
    model = Net().to(device)
    opt = optim.AdamW(model.parameters(), lr=1e-3)
    for _ in range(epochs):
        for images, labels in loader:
            images = images.cuda()
            loss = torch.nn.functional.nll_loss(model(images), labels)
            opt.zero_grad()
            loss.backward()
            opt.step()
    print(torch.__version__.split("."))
    return getattr(torch, "cumsum")(torch.ones(3), 0)
