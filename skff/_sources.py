"""Mini-batch sources: rows of X as float32 tensors on the training device.

Dense data lives on the device when it fits (or in pinned host memory, copied
one batch at a time when it does not); sparse data stays a CSR matrix on the
host and only each batch is densified.
"""

import numpy as np
import scipy.sparse as sp
import torch

# data up to this fraction of the device's free memory is moved there whole
_DEVICE_FRACTION = 0.5


def _as_float32_tensor(X: np.ndarray) -> torch.Tensor:
    X = np.asarray(X)
    if X.dtype != np.float32 or not X.flags.c_contiguous or not X.flags.writeable:
        X = np.array(X, dtype=np.float32, order="C")  # copies
    return torch.from_numpy(X)


def _fits_on_device(nbytes: int, device: torch.device) -> bool:
    if device.type != "cuda":
        return True
    free, _ = torch.cuda.mem_get_info(device)
    return nbytes < _DEVICE_FRACTION * free


class ArraySource:
    """Rows of a dense array or a sparse matrix, served by index.

    With ``stream`` (prediction: each row is read once, in order) dense rows
    stay as they are and only the rows taken are converted to float32;
    otherwise the whole array is converted once (training reads it every
    epoch)."""

    def __init__(self, X, device: torch.device, stream: bool = False):
        self.device = torch.device(device)
        self.sparse = sp.issparse(X)
        self._stream = stream and not self.sparse
        if self._stream:
            self._X = np.asarray(X)
            self._on_device = False
        elif self.sparse:
            self._X = sp.csr_matrix(X, dtype=np.float32)
            self._on_device = False
        else:
            Xt = _as_float32_tensor(X)
            if self.device.type == "cpu":
                self._on_device = True
            elif _fits_on_device(Xt.numel() * 4, self.device):
                Xt = Xt.to(self.device)
                self._on_device = True
            else:
                Xt = Xt.pin_memory() if self.device.type == "cuda" else Xt
                self._on_device = False
            self._X = Xt

    def __len__(self) -> int:
        return self._X.shape[0]

    def root_mean_square(self, chunk: int = 4096) -> float:
        """Root mean square of all entries, accumulated in float64 a chunk of
        rows at a time (1.0 when every entry is 0)."""
        if self.sparse:
            data = self._X.data.astype(np.float64)
            total = float(data @ data)
        else:
            total = 0.0
            for start in range(0, len(self), chunk):
                block = self._X[start : start + chunk].double()
                total += float(block.pow(2).sum())
        size = self._X.shape[0] * self._X.shape[1]
        rms = (total / size) ** 0.5 if size else 0.0
        return rms if rms > 0 and np.isfinite(rms) else 1.0

    def take(self, idx: torch.Tensor) -> torch.Tensor:
        """Rows ``idx`` (a CPU int64 tensor) as a float32 tensor on the device."""
        if self._stream:
            rows = np.asarray(self._X[idx.numpy()], dtype=np.float32)
            return torch.from_numpy(rows).to(self.device)
        if self.sparse:
            rows = self._X[idx.numpy()].toarray()
            return torch.from_numpy(rows).to(self.device, non_blocking=True)
        if self._on_device:
            return self._X[idx.to(self._X.device)]
        return self._X[idx].to(self.device, non_blocking=True)


class ContextSource:
    """Fixed-length character contexts, one-hot encoded on the device.

    ``ids`` is a 1-D int64 array of token ids (all documents concatenated) and
    ``positions`` the indices of the characters to predict; the context of
    position ``p`` is ``ids[p - context_size : p]``. Only the small id arrays
    live on the device; each batch's one-hot rows are built there.
    """

    def __init__(self, ids, positions, context_size: int, n_tokens: int, device):
        self.device = torch.device(device)
        self.context_size = int(context_size)
        self.n_tokens = int(n_tokens)
        self._ids = torch.as_tensor(np.asarray(ids), dtype=torch.int64).to(self.device)
        self._pos = torch.as_tensor(np.asarray(positions), dtype=torch.int64)
        self._offsets = torch.arange(-self.context_size, 0, device=self.device)

    def __len__(self) -> int:
        return len(self._pos)

    def targets(self) -> torch.Tensor:
        """The token at every position (the positive label)."""
        return self._ids[self._pos.to(self.device)].cpu()

    def take(self, idx: torch.Tensor) -> torch.Tensor:
        pos = self._pos[idx].to(self.device)
        window = self._ids[pos.unsqueeze(1) + self._offsets]  # (batch, context)
        onehot = torch.zeros(
            len(pos), self.context_size, self.n_tokens, device=self.device
        )
        onehot.scatter_(2, window.unsqueeze(2), 1.0)
        return onehot.reshape(len(pos), -1)
