"""Pseudo-margin (Ngnawé et al. 2024): a small network that learns the input margin from features
(e.g. penultimate activations or logits) for models whose logit margin is not margin-consistent.

It regresses sqrt(margin) (squared back at prediction, so predictions are >= 0): the square root
tames the long right tail of margins. An optional pairwise ranking term (logistic loss on every
ordered pair of a mini-batch) targets the order, which is what detection by thresholding needs.
"""

from __future__ import annotations

import numpy as np

from .. import _inputs
from . import _checks


class PseudoMargin:
    """PseudoMargin(hidden=64, epochs=200, lr=3e-3, batch_size=256, ranking_weight=0.0, seed=0).

    fit(features (N, F), margins (N,) finite, >= 0) -> self; predict(features) -> (N,) float64 >= 0,
    NumPy for NumPy features, a tensor on their device for a tensor.
    Features are standardised with the training mean/std; training is deterministic for a seed
    (a private RNG: the global torch seed is neither used nor changed).
    """

    def __init__(
        self,
        hidden: int = 64,
        epochs: int = 200,
        lr: float = 3e-3,
        batch_size: int = 256,
        ranking_weight: float = 0.0,
        seed: int = 0,
    ):
        for name, v in (("hidden", hidden), ("epochs", epochs), ("batch_size", batch_size), ("seed", seed)):
            if isinstance(v, bool) or not isinstance(v, (int, np.integer)):
                raise TypeError(f"{name}: expected an int, got {type(v).__name__}")
            if v < (0 if name == "seed" else 1):
                raise ValueError(f"{name}: expected {'>= 0' if name == 'seed' else '>= 1'}, got {v}")
        self.lr = _checks.nonneg_scalar(lr, "lr")
        if self.lr == 0:
            raise ValueError("lr: expected a value > 0, got 0")
        self.ranking_weight = _checks.nonneg_scalar(ranking_weight, "ranking_weight")
        self.hidden, self.epochs, self.batch_size, self.seed = int(hidden), int(epochs), int(batch_size), int(seed)
        self._net = None

    def fit(self, features, margins) -> "PseudoMargin":
        """Train the network on features (N, F) to predict the input margins (N,) (finite,
        >= 0); returns self. ValueError on +inf or negative margins or mismatched rows."""
        import torch

        X = _checks.matrix(features, "features")
        m = _checks.margins(margins, "margins", X.shape[0])
        if np.isinf(m).any():
            raise ValueError("margins: +inf margins cannot be regressed; drop or cap them first")
        self._mean, self._std = X.mean(0), X.std(0)
        self._std[self._std == 0] = 1.0
        target = np.sqrt(m)
        self._scale = float(target.mean()) or 1.0  # targets of order 1 for the optimiser
        gen = torch.Generator().manual_seed(self.seed)
        Xt = torch.as_tensor((X - self._mean) / self._std, dtype=torch.float32)
        yt = torch.as_tensor(target / self._scale, dtype=torch.float32)
        net = self._build(X.shape[1], gen)
        opt = torch.optim.Adam(net.parameters(), lr=self.lr)
        n = Xt.shape[0]
        for _ in range(self.epochs):
            for batch in torch.randperm(n, generator=gen).split(self.batch_size):
                pred = net(Xt[batch]).squeeze(1)
                loss = torch.mean((pred - yt[batch]) ** 2)
                if self.ranking_weight > 0:
                    loss = loss + self.ranking_weight * _pairwise_logistic(pred, yt[batch])
                opt.zero_grad()
                loss.backward()
                opt.step()
        self._net = net.eval()
        return self

    def predict(self, features) -> np.ndarray:
        """Predicted input margins (N,), float64 >= 0, of features (N, F): NumPy for NumPy input,
        a tensor on the input's device for a tensor. RuntimeError before fit."""
        import torch

        if self._net is None:
            raise RuntimeError("PseudoMargin: call fit() before predict()")
        X = _checks.matrix(features, "features", self._mean.size)
        with torch.no_grad():
            out = self._net(torch.as_tensor((X - self._mean) / self._std, dtype=torch.float32)).squeeze(1)
        root = np.maximum(out.double().numpy() * self._scale, 0.0)
        pred = root * root
        # the kind of array that came in: a tensor (float64, on its device) for a tensor
        return torch.from_numpy(pred).to(features.device) if _inputs.is_torch(features) else pred

    def _build(self, n_in: int, gen):
        import torch

        net = torch.nn.Sequential(
            torch.nn.Linear(n_in, self.hidden),
            torch.nn.ReLU(),
            torch.nn.Linear(self.hidden, self.hidden),
            torch.nn.ReLU(),
            torch.nn.Linear(self.hidden, 1),
        )
        with torch.no_grad():  # PyTorch's default init, drawn from the private generator
            for layer in net:
                if isinstance(layer, torch.nn.Linear):
                    bound = 1.0 / np.sqrt(layer.in_features)
                    layer.weight.uniform_(-bound, bound, generator=gen)
                    layer.bias.uniform_(-bound, bound, generator=gen)
        return net


def _pairwise_logistic(pred, target):
    """mean over pairs with target_i > target_j of log(1 + exp(-(pred_i - pred_j))); (batch^2) pairs,
    bounded by the batch size."""
    import torch

    diff = pred[:, None] - pred[None, :]
    order = target[:, None] > target[None, :]
    if not bool(order.any()):
        return pred.sum() * 0.0
    return torch.nn.functional.softplus(-diff[order]).mean()
