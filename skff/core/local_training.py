"""What every core shares: one optimizer per layer and one for the readout
head, the local loss, the choice of negative labels, and the objective."""

from __future__ import annotations

import torch
import torch.nn.functional as F
from torch import nn

from .functional import ff_loss, goodness, weighted_mean
from .negatives import hardest_wrong_labels, sample_wrong_labels, uniform_wrong_labels
from .objective import Objective


def _adam(params, lr: float, weight_decay: float) -> torch.optim.Adam:
    """Adam, fused into one kernel where torch supports it (CPU and CUDA since
    torch 2.4): faster steps on wide layers, the same updates to ~1e-6
    (measured in benchmarks/README.md)."""
    params = list(params)
    device = params[0].device.type
    fused = device in ("cpu", "cuda")
    try:
        return torch.optim.Adam(params, lr=lr, weight_decay=weight_decay, fused=fused)
    except (RuntimeError, TypeError, ValueError):
        return torch.optim.Adam(params, lr=lr, weight_decay=weight_decay)


#: Matrix products at prediction run on a multiple of this many rows: float32
#: kernels then do not depend on how many rows are asked for, so a sample's
#: scores do not depend on which other samples are scored with it.
ROW_QUANTUM = 64


def quantized_rows(n: int) -> int:
    """``n`` rounded up to a multiple of :data:`ROW_QUANTUM`."""
    return -(-n // ROW_QUANTUM) * ROW_QUANTUM


class LocalTrainingCore(nn.Module):
    """Base class of the cores: layer-local training under one :class:`Objective`.

    A subclass builds ``self.layers`` (the FF layers, each trained on its own
    loss), optionally ``self.head`` (a linear softmax readout trained on
    detached features; a core without one has no such attribute) and calls
    :meth:`_register_peer_means` with the number of units of every layer (what
    :meth:`peer_activity` returns per row). It adds the entries of its
    architecture to :meth:`get_config`.
    """

    def __init__(self, objective: Objective | dict | None = None):
        super().__init__()
        self.objective = Objective.coerce(objective)
        self._optimizers = None
        self._head_optimizer = None
        self.optimizer_step = None

    #: Whether a mini-batch passes through the network twice in training: a
    #: *belief* pass (the layers untrained) that steps the head and gives the
    #: class probabilities the negatives are drawn from, then the training
    #: pass. Cores that set it implement the ``belief_*`` methods.
    belief_pass = False

    # -- configuration -------------------------------------------------------------
    def set_objective(self, objective: Objective | dict) -> None:
        """Replace the objective as a whole (validated)."""
        self.objective = Objective.coerce(objective)

    def get_config(self) -> dict:
        """Keyword arguments that rebuild this core, with its current objective."""
        return {"objective": self.objective.as_dict()}

    def _register_peer_means(self, sizes) -> None:
        """One running-mean buffer per layer (start 0.5), kept in ``peer_means``."""
        self._n_peer = len(sizes)
        for i, h in enumerate(sizes):
            self.register_buffer(f"peer_mean_{i}", torch.full((h,), 0.5))
        self._link_peer_means()

    def _link_peer_means(self) -> None:
        self.peer_means = [getattr(self, f"peer_mean_{i}") for i in range(self._n_peer)]

    def _apply(self, fn, *args, **kwargs):
        # moving the module replaces the buffers: point the list at the new ones
        out = super()._apply(fn, *args, **kwargs)
        self._link_peer_means()
        return out

    # -- scoring every label ------------------------------------------------------
    def _score_pairs(self, n: int, n_valid, score, max_rows) -> torch.Tensor:
        """Scores of every (row, label) pair, shape ``(n, n_classes)``.

        Only the first ``n_valid`` rows (all by default) are scored; the rest
        are padding and get 0. ``score(rows, labels)`` scores a block of pairs;
        blocks hold at most ``max_rows`` pairs and are padded to a multiple of
        :data:`ROW_QUANTUM` rows, so memory stays bounded and padding rows are
        never multiplied by the number of labels.
        """
        c = self.n_classes
        n_valid = n if n_valid is None else int(n_valid)
        device = self.head.weight.device
        rows = torch.arange(n_valid, device=device).repeat_interleave(c)
        labels = torch.arange(c, device=device).repeat(n_valid)
        total = n_valid * c
        block = total if max_rows is None else max(ROW_QUANTUM, int(max_rows))
        block = quantized_rows(min(block, total)) if total else ROW_QUANTUM
        out = torch.zeros(n * c, device=device)
        for start in range(0, total, block):
            r, lab = rows[start : start + block], labels[start : start + block]
            pad = block - len(r)
            if pad:
                r = torch.cat([r, r.new_zeros(pad)])
                lab = torch.cat([lab, lab.new_zeros(pad)])
            out[start : start + block - pad] = score(r, lab)[: block - pad].float()
        return out.view(n, c)

    # -- readouts ------------------------------------------------------------------
    def readout_logits(
        self, x: torch.Tensor, n_valid=None, max_rows=None
    ) -> tuple[torch.Tensor, torch.Tensor]:
        """Both readouts of ``x``: ``(label_logits, head_logits)``. A core
        whose two readouts share a forward pass overrides this to run it
        once."""
        return self.label_logits(x, n_valid, max_rows), self.head_logits(x)

    # -- optimizers ----------------------------------------------------------------
    def configure_training(
        self, *, learning_rate: float, alpha: float = 0.0, reset: bool = True
    ) -> None:
        """Create (or keep, with ``reset=False``) one Adam optimizer per layer
        and one for the head (when the core has one), with L2 penalty
        ``alpha``."""
        if self._optimizers is None or reset:
            self._optimizers = [
                _adam(layer.parameters(), learning_rate, alpha) for layer in self.layers
            ]
            head = getattr(self, "head", None)
            if head is not None:
                self._head_optimizer = _adam(head.parameters(), learning_rate, alpha)
        self.set_learning_rate(learning_rate)

    @property
    def is_configured(self) -> bool:
        return self._optimizers is not None

    def begin_epoch(self, epoch: int, n_epochs: int) -> tuple[int, int]:
        """Called before epoch ``epoch`` (from 0) of ``n_epochs``: returns the
        epoch's place ``(epoch, length)`` in the phase the learning-rate
        schedule runs over (here the whole call; a core that trains its layers
        in turns starts the schedule again for each)."""
        return epoch, n_epochs

    def set_learning_rate(self, learning_rate: float) -> None:
        optimizers = list(self._optimizers)
        if self._head_optimizer is not None:
            optimizers.append(self._head_optimizer)
        for opt in optimizers:
            for group in opt.param_groups:
                group["lr"] = learning_rate

    # -- the local objective -------------------------------------------------------
    def layer_loss(
        self, i: int, h: torch.Tensor, n_pos: int, weight: torch.Tensor | None = None
    ) -> torch.Tensor:
        """Loss of layer ``i`` on activities ``h`` (one row per sample; the
        goodness reads every value of a row): positives in the first
        ``n_pos`` rows, then their negatives in blocks of ``n_pos`` rows, each
        block paired row by row with the positives. ``weight`` (``n_pos``
        values, optional) weights each positive and its negatives: the loss
        and the peer-normalization means are then weighted means over the
        rows."""
        obj = self.objective
        g = goodness(h.flatten(1), obj.goodness)
        loss = ff_loss(
            g[:n_pos],
            g[n_pos:].view(-1, n_pos).t(),
            kind=obj.loss,
            threshold=obj.threshold,
            symba_scale=obj.symba_scale,
            weight=weight,
        )
        if obj.peer_normalization > 0:
            loss = loss + obj.peer_normalization * self.peer_penalty(
                i, h[:n_pos], weight
            )
        return loss

    def peer_activity(self, h: torch.Tensor) -> torch.Tensor:
        """Each unit's activity in every row of ``h``, shape ``(n, units)``:
        what peer normalization averages (here ``h`` itself; a convolutional
        core averages each channel over its positions)."""
        return h

    def peer_penalty(
        self, i: int, h_pos: torch.Tensor, weight: torch.Tensor | None = None
    ) -> torch.Tensor:
        """Peer normalization of layer ``i`` on the positives' activities
        ``h_pos``: pull each unit's running mean activity (over the rows,
        weighted by ``weight`` when given) toward the layer's mean activity,
        reviving dead units and calming hysterical ones. Updates the running
        means and returns the penalty."""
        buf = self.peer_means[i]
        running = 0.9 * buf + 0.1 * self.row_mean(self.peer_activity(h_pos), weight)
        buf.copy_(running.detach())
        return (running - running.mean()).pow(2).mean()

    @staticmethod
    def row_mean(h: torch.Tensor, weight: torch.Tensor | None = None) -> torch.Tensor:
        """Mean of the rows of ``h`` (over its first dimension), each row
        counting its ``weight`` when one is given (all-zero weights give 0)."""
        if weight is None:
            return h.mean(dim=0)
        w = weight.to(torch.float32).reshape(-1, *([1] * (h.dim() - 1)))
        total = w.sum().clamp_min(torch.finfo(torch.float32).tiny)
        return (h.float() * w).sum(dim=0) / total

    def update_layer(self, i: int, loss: torch.Tensor) -> None:
        """One local optimizer step for layer ``i``; no gradient leaves it."""
        opt = self._optimizers[i]
        opt.zero_grad(set_to_none=True)
        loss.backward()
        self._step(opt)

    def _step(self, opt) -> None:
        """``opt.step()``, or ``optimizer_step(opt)`` when one is set: a
        data-parallel trainer combines the workers' gradients there before
        stepping (None, the default, steps at once)."""
        step = getattr(self, "optimizer_step", None)  # None in cores pickled before it
        if step is None:
            opt.step()
        else:
            step(opt)

    def update_head(
        self,
        features: torch.Tensor,
        y: torch.Tensor,
        weight: torch.Tensor | None = None,
    ) -> tuple:
        """Train the linear softmax head on detached features (its
        cross-entropy a weighted mean over the rows when ``weight`` is given);
        return its loss and its (detached) class probabilities."""
        logits = self.head(features.detach())
        if weight is None:
            loss = F.cross_entropy(logits, y)
        else:
            loss = weighted_mean(F.cross_entropy(logits, y, reduction="none"), weight)
        self._head_optimizer.zero_grad(set_to_none=True)
        loss.backward()
        self._step(self._head_optimizer)
        return loss.detach(), torch.softmax(logits.detach(), dim=1)

    def negative_labels(self, y, n_classes, probs=None, generator=None):
        """Wrong labels for the negative pass, by the objective's ``negatives``:
        one block of ``len(y)`` labels per negative, concatenated (1-D, length
        ``k * len(y)`` with ``k = min(n_negatives, n_classes - 1)``)."""
        obj = self.objective
        k = min(obj.n_negatives, n_classes - 1)
        if obj.negatives == "uniform" or probs is None:
            y_neg = uniform_wrong_labels(y, n_classes, generator, k=k)
        elif obj.negatives == "hard":
            y_neg = sample_wrong_labels(probs, y, generator, k=k)
        else:
            y_neg = hardest_wrong_labels(probs, y, k=k)
        return y_neg.t().reshape(-1)

    # -- training in stages (a pipeline of workers) ----------------------------------
    # A mini-batch's training pass is ``train_begin`` (on the worker holding
    # layer 0), ``train_layer`` for every layer in order (each on the worker
    # holding it; the carry, a tuple of tensors, is what passes between
    # them) and ``train_end`` (on the worker holding the last layer). Cores
    # with a belief pass run ``belief_begin`` / ``belief_layer`` /
    # ``belief_end`` on the same workers first. ``staged_step`` chains them
    # in one process: one ``train_step``.

    def layer_costs(self) -> list:
        """Relative compute of each layer's training step (multiply-adds per
        row, from the shapes): what a pipeline balances its stages by."""
        raise NotImplementedError(
            f"{type(self).__name__} does not train in a pipeline of stages"
        )

    def staged_step(self, x, y, generator=None, weight=None) -> torch.Tensor:
        """One mini-batch through the stage methods in one process; the same
        model as ``train_step``. Returns the losses as ``train_step``."""
        probs, head_loss = None, None
        shared = self.step_inputs(x)
        if self.belief_pass:
            carry = self.belief_begin(x, shared)
            for i in range(len(self.layers)):
                carry = self.belief_layer(i, carry)
            head_loss, probs = self.belief_end(carry, y, weight)
        carry = self.train_begin(x, y, probs, generator, weight, shared)
        losses = []
        for i in range(len(self.layers)):
            carry, loss = self.train_layer(i, carry, y, weight)
            losses.append(loss)
        end_loss = self.train_end(carry, y, weight)
        losses.append(head_loss if end_loss is None else end_loss)
        return torch.stack(losses)

    def step_inputs(self, x):
        """What the belief and the training pass of one mini-batch can share
        when they run together in one process (``staged_step``), passed to
        both ``*_begin`` methods as ``shared``; None: nothing (a pipeline's
        stages always compute their own)."""
        return None

    def train_end(self, carry, y, weight=None):
        """The training pass's last step, after the last layer: the head's
        step where no belief pass made it (its loss), else None."""
        return None
