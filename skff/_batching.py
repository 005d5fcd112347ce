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
    """Rows of a dense array or a sparse matrix, served by index."""

    def __init__(self, X, device: torch.device):
        self.device = torch.device(device)
        self.sparse = sp.issparse(X)
        if self.sparse:
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

    def take(self, idx: torch.Tensor) -> torch.Tensor:
        """Rows ``idx`` (a CPU int64 tensor) as a float32 tensor on the device."""
        if self.sparse:
            rows = self._X[idx.numpy()].toarray()
            return torch.from_numpy(rows).to(self.device, non_blocking=True)
        if self._on_device:
            return self._X[idx.to(self._X.device)]
        return self._X[idx].to(self.device, non_blocking=True)
