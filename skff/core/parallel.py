"""One fit over several workers with ``torch.distributed``: a pipeline of
layer stages, or data parallel.

A *trainer* here runs one epoch of a core's training on this process's part
of the work and leaves every process with the same complete core. It uses a
process group that already exists (``torch.distributed.init_process_group``;
gloo on CPUs, NCCL on GPUs); starting the processes is the caller's business.
Every process runs the same program on the same data (SPMD): the trainers
only divide each epoch's mini-batches between them.

**Pipeline** (:class:`PipelineTrainer`): the layers are split into as many
contiguous stages as there are processes (:func:`balanced_stages`, by the
cores' :meth:`~LocalTrainingCore.layer_costs`); each process trains its
stage's layers on the detached activities the previous stage sends it and
sends its own on, so that all stages train at once, each on another
mini-batch. A core with a belief pass (the feed-forward network: its head's
step and the class probabilities that the negatives are drawn from need the
whole network) sends each mini-batch through the pipeline twice: first its
belief pass, which reaches the last stage (the head's) and sends the class
probabilities back to the first, then its training pass. The order, in
*slots*: in slot ``s`` every stage ``r`` first runs its layers' belief pass
on mini-batch ``s``, then trains them on mini-batch ``s - lag - r`` (``lag``
is the number of stages less one with a belief pass, else 0). So a
mini-batch's negatives and head step come from a network ``lag`` mini-batches
behind its training pass, and stage ``r`` trains on what the stages before
it passed on in the previous slot. One stage is the sequential order.
Every epoch fills and drains the pipeline; :meth:`PipelineTrainer.synchronize`
sends every stage's weights, buffers and optimizer states to every process
(the epoch loop calls it before an early-stopping score, on divergence and
at the end). :func:`simulate_pipeline` runs the same order in one process.

**Data parallel** (:class:`DataParallelTrainer`): every process holds the
whole network and trains it on its share of every mini-batch (a contiguous
slice of the shuffled rows, its own negatives); right after each layer's
backward step its gradients are gathered from all processes and combined in
rank order (each weighted by its share of the mini-batch's rows, or of their
sample weights), while the next layer's forward pass runs, and every process
takes the same optimizer step. Buffers (peer-normalization and batch-norm
averages) are averaged over the processes at the end of each epoch. A last
mini-batch with fewer rows than processes joins the one before it.

Both give the same model on every run with the same data, seed and number of
processes.
"""

from __future__ import annotations

import contextlib
import math
import threading
from collections import deque

import torch
import torch.distributed as dist

#: dtypes a message header can name
_DTYPES = (torch.float32, torch.float16, torch.bfloat16)
_MAX_TENSORS, _MAX_DIMS = 4, 5
_HEADER = 1 + _MAX_TENSORS * (2 + _MAX_DIMS)  # count, then dtype, ndim, dims


def balanced_stages(costs, n_stages: int) -> list:
    """Split layers of ``costs`` (one number each) into ``n_stages``
    contiguous stages, minimizing the cost of the costliest stage (among
    equal splits, the one with the earliest boundaries). Returns
    ``[(first, stop), ...]`` layer ranges."""
    n = len(costs)
    if not 1 <= n_stages <= n:
        raise ValueError(
            f"a pipeline of {n_stages} stages needs at least {n_stages} layers; "
            f"the network has {n}"
        )
    prefix = [0.0]
    for c in costs:
        prefix.append(prefix[-1] + float(c))
    inf = float("inf")
    # best[k][j]: the smallest largest-stage cost of layers [0, j) in k stages
    best = [[inf] * (n + 1) for _ in range(n_stages + 1)]
    cut = [[0] * (n + 1) for _ in range(n_stages + 1)]
    best[0][0] = 0.0
    for k in range(1, n_stages + 1):
        for j in range(k, n + 1):
            for i in range(k - 1, j):
                value = max(best[k - 1][i], prefix[j] - prefix[i])
                if value < best[k][j]:
                    best[k][j], cut[k][j] = value, i
    bounds, j = [], n
    for k in range(n_stages, 0, -1):
        bounds.append((cut[k][j], j))
        j = cut[k][j]
    return bounds[::-1]


def plan_stages(core, n_stages: int) -> list:
    """The stages of ``core`` over ``n_stages`` workers (:func:`balanced_stages`
    of its :meth:`~LocalTrainingCore.layer_costs`)."""
    if not hasattr(core, "train_layer"):
        raise ValueError(
            f"{type(core).__name__} does not train in a pipeline of stages"
        )
    return balanced_stages(core.layer_costs(), n_stages)


def belief_lag(n_stages: int, belief: bool) -> int:
    """Mini-batches between a belief pass and its training pass: the stages
    less one (the belief pass crosses them all before the first stage
    trains); none without a belief pass."""
    return n_stages - 1 if belief else 0


def _n_slots(n_stages: int, n_batches: int, belief: bool) -> int:
    """Slots of one epoch: until the last stage has trained the last batch."""
    return n_batches + belief_lag(n_stages, belief) + n_stages - 1


def _slot(rank: int, s: int, n_stages: int, n_batches: int, belief: bool) -> list:
    """Stage ``rank``'s actions in slot ``s``: the belief pass (``("B", s)``)
    of mini-batch ``s``, then the training pass (``("T", b)``) of mini-batch
    ``b = s - lag - rank`` (the module's order), each where it exists."""
    actions = [("B", s)] if belief and s < n_batches else []
    b = s - belief_lag(n_stages, belief) - rank
    if 0 <= b < n_batches:
        actions.append(("T", b))
    return actions


def _schedule(rank: int, n_stages: int, n_batches: int, belief: bool) -> list:
    """Stage ``rank``'s actions of one epoch in order, slot by slot."""
    return [
        action
        for s in range(_n_slots(n_stages, n_batches, belief))
        for action in _slot(rank, s, n_stages, n_batches, belief)
    ]


def _sends(rank: int, n_stages: int, n_batches: int, belief: bool) -> list:
    """``(destination, label)`` of every message stage ``rank`` sends, in
    order: activities of the belief (``"B"``) and training (``"T"``)
    passes to the next stage; the last stage's class probabilities
    (``"P"``) to the first."""
    out = []
    for kind, b in _schedule(rank, n_stages, n_batches, belief):
        if rank + 1 < n_stages:
            out.append((rank + 1, (kind, b)))
        elif kind == "B" and n_stages > 1:
            out.append((0, ("P", b)))
    return out


class _DistLink:
    """Messages between the processes of the default group. A message (a
    tuple of at most :data:`_MAX_TENSORS` tensors) goes as two ``isend``
    calls (the sender goes on at once): a header of shapes and dtypes, then
    every tensor in one flat buffer. A receiver reads the messages of a
    sender in the order they were sent, keeping those it needs later: the
    stages' orders are known, so no tags are needed (NCCL has none)."""

    def __init__(self, device, expected: dict):
        self.device = device
        self.pending = []
        self.kept, self.failed = {}, None
        self.arrived = threading.Condition()
        self.due = {src: deque(labels) for src, labels in expected.items()}
        # gloo: a thread per sender receives its messages in order as soon as
        # they come, while this thread computes; NCCL (one stream of
        # point-to-point calls per communicator): this thread, when needed
        threaded = torch.device(device).type == "cpu"
        self.readers = [
            threading.Thread(target=self._read, args=(src, list(labels)), daemon=True)
            for src, labels in expected.items()
            if labels and threaded
        ]
        for reader in self.readers:
            reader.start()

    def _read(self, src: int, labels: list) -> None:
        try:
            for label in labels:
                message = self._receive(src)
                with self.arrived:
                    self.kept[(src, label)] = message
                    self.arrived.notify_all()
        except BaseException as exc:  # a peer that died: the trainer raises it
            with self.arrived:
                self.failed = exc
                self.arrived.notify_all()

    def send(self, tensors, dst: int, label) -> None:
        self.pending = [p for p in self.pending if not p[0].is_completed()]
        tensors = [t.detach() for t in tensors]
        if len(tensors) > _MAX_TENSORS or any(
            t.dim() > _MAX_DIMS or t.dtype not in _DTYPES for t in tensors
        ):
            raise ValueError("a pipeline message holds at most 4 tensors of 5 dims")
        meta = [len(tensors)]
        for t in tensors:
            meta += [_DTYPES.index(t.dtype), t.dim(), *t.shape]
            meta += [0] * (_MAX_DIMS - t.dim())
        meta += [0] * (_HEADER - len(meta))
        header = torch.tensor(meta, dtype=torch.int64, device=self.device)
        # one buffer: float32 holds every float dtype here exactly
        flat = torch.cat([t.reshape(-1).to(torch.float32) for t in tensors])
        self.pending.append((dist.isend(header, dst), header))
        if flat.numel():
            self.pending.append((dist.isend(flat, dst), flat))

    def _receive(self, src: int) -> tuple:
        header = torch.empty(_HEADER, dtype=torch.int64, device=self.device)
        dist.recv(header, src)
        meta = header.tolist()
        specs = []
        for j in range(meta[0]):
            code, ndim, *dims = meta[
                1 + j * (2 + _MAX_DIMS) : 1 + (j + 1) * (2 + _MAX_DIMS)
            ]
            specs.append((_DTYPES[code], dims[:ndim]))
        total = sum(math.prod(shape) for _, shape in specs)
        flat = torch.empty(total, dtype=torch.float32, device=self.device)
        if total:
            dist.recv(flat, src)
        out, start = [], 0
        for dtype, shape in specs:
            n = math.prod(shape)
            out.append(flat[start : start + n].view(shape).to(dtype))
            start += n
        return tuple(out)

    def recv(self, src: int, label) -> tuple:
        if not self.readers:
            while (src, label) not in self.kept:
                if not self.due[src]:
                    raise RuntimeError(f"no message {label} is due from process {src}")
                self.kept[(src, self.due[src].popleft())] = self._receive(src)
            return self.kept.pop((src, label))
        with self.arrived:
            while (src, label) not in self.kept:
                if self.failed is not None:
                    raise RuntimeError(
                        f"receiving from process {src} failed: {self.failed}"
                    ) from self.failed
                self.arrived.wait()
            return self.kept.pop((src, label))

    def finish(self) -> None:
        for work, _ in self.pending:
            work.wait()
        self.pending = []
        for reader in self.readers:
            reader.join()


class _LocalLink:
    """Messages between stages that run in one process (the simulation):
    one per stage, over the boxes they share."""

    def __init__(self, boxes: dict, rank: int):
        self.boxes, self.rank = boxes, rank

    def send(self, tensors, dst: int, label) -> None:
        self.boxes[(dst, label)] = tuple(t.detach() for t in tensors)

    def recv(self, src: int, label) -> tuple:
        return self.boxes.pop((self.rank, label))

    def finish(self) -> None:
        pass


class _Stage:
    """The work of one pipeline stage in one epoch."""

    def __init__(self, core, rank, stages, link, batch, generator, totals):
        self.core, self.rank, self.stages, self.link = core, rank, stages, link
        self.batch, self.generator, self.totals = batch, generator, totals
        self.lo, self.hi = stages[rank]
        self.first, self.last = rank == 0, rank + 1 == len(stages)
        self.probs = {}

    def belief(self, s: int) -> None:
        core = self.core
        x, y, w = self.batch(s, self.first)
        if self.first:
            carry = core.belief_begin(x)
        else:
            carry = self.link.recv(self.rank - 1, ("B", s))
        for i in range(self.lo, self.hi):
            carry = core.belief_layer(i, carry)
        if not self.last:
            self.link.send(carry, self.rank + 1, ("B", s))
            return
        head_loss, probs = core.belief_end(carry, y, w)
        self.totals[-1] += head_loss.float() * y.shape[0]
        if self.first:
            self.probs[s] = probs
        else:
            self.link.send((probs,), 0, ("P", s))

    def train(self, b: int) -> None:
        core = self.core
        x, y, w = self.batch(b, self.first)
        if self.first:
            probs = None
            if core.belief_pass:
                last = len(self.stages) - 1
                probs = (
                    self.probs.pop(b)
                    if self.last
                    else self.link.recv(last, ("P", b))[0]
                )
            carry = core.train_begin(x, y, probs, self.generator, w)
        else:
            carry = self.link.recv(self.rank - 1, ("T", b))
        for i in range(self.lo, self.hi):
            carry, loss = core.train_layer(i, carry, y, w)
            self.totals[i] += loss.float() * y.shape[0]
        if not self.last:
            self.link.send(carry, self.rank + 1, ("T", b))
            return
        end = core.train_end(carry, y, w)
        if end is not None:
            self.totals[-1] += end.float() * y.shape[0]

    def run(self, action) -> None:
        kind, b = action
        (self.belief if kind == "B" else self.train)(b)


def _batch_fn(order, batch_rows: int, fetch):
    """``(n_batches, batch(b, with_x))`` over the shuffled ``order``."""
    n_batches = -(-len(order) // batch_rows)

    def batch(b, with_x=True):
        return fetch(order[b * batch_rows : (b + 1) * batch_rows], with_x)

    return n_batches, batch


def simulate_pipeline(
    core, n_stages: int, order, batch_rows: int, fetch, generator, step_context=None
):
    """One epoch in the pipeline's order (the module's docstring) in this
    process: what :class:`PipelineTrainer` computes over ``n_stages``
    processes. Returns the summed losses (one per layer, then the head's)."""
    stages = plan_stages(core, n_stages)
    n_batches, batch = _batch_fn(order, batch_rows, fetch)
    totals = torch.zeros(len(core.layers) + 1)
    boxes = {}
    workers = [
        _Stage(core, r, stages, _LocalLink(boxes, r), batch, generator, totals)
        for r in range(n_stages)
    ]
    belief = core.belief_pass
    step_context = step_context or contextlib.nullcontext
    # slot by slot: the belief passes stage after stage, then the training
    for s in range(_n_slots(n_stages, n_batches, belief)):
        plans = [_slot(r, s, n_stages, n_batches, belief) for r in range(n_stages)]
        for kind in ("B", "T"):
            for worker, plan in zip(workers, plans, strict=True):
                for action in plan:
                    if action[0] == kind:
                        with step_context():
                            worker.run(action)
    return totals


class SimulatedPipeline:
    """A trainer that runs the pipeline's order of ``n_stages`` stages in this
    process (:func:`simulate_pipeline`): the model a :class:`PipelineTrainer`
    over ``n_stages`` processes trains, without the processes."""

    def __init__(self, n_stages: int):
        self.n_stages = int(n_stages)

    def run_epoch(self, core, order, batch_rows, fetch, generator, seed, step_context):
        return simulate_pipeline(
            core, self.n_stages, order, batch_rows, fetch, generator, step_context
        )

    def synchronize(self, core) -> None:
        """Nothing to do: the stages share one core."""


class _Trainer:
    """What both trainers share: the process group, the losses' reduction."""

    def __init__(self, device):
        if not dist.is_initialized():
            raise RuntimeError("no torch.distributed process group is initialized")
        self.device = torch.device(device)
        self.rank, self.world = dist.get_rank(), dist.get_world_size()

    def _gather(self, t: torch.Tensor) -> list:
        t = t.to(self.device).contiguous()
        out = [torch.empty_like(t) for _ in range(self.world)]
        dist.all_gather(out, t)
        return out

    def _sum(self, t: torch.Tensor) -> torch.Tensor:
        """``t`` summed over the processes, in rank order (the same bits on
        every process)."""
        parts = self._gather(t)
        total = parts[0].clone()
        for p in parts[1:]:
            total += p
        return total.cpu()


class PipelineTrainer(_Trainer):
    """Trains a core's layers as a pipeline of stages, one per process (see
    the module's docstring)."""

    def __init__(self, device):
        super().__init__(device)
        self._stages = None

    def plan(self, core) -> list:
        """The stages of ``core``: ``[(first, stop), ...]`` layer ranges."""
        return plan_stages(core, self.world)

    def run_epoch(self, core, order, batch_rows, fetch, generator, seed, step_context):
        """One epoch over the rows ``order`` in mini-batches of ``batch_rows``
        (``fetch(idx, with_x) -> (x, y, weight)``), each pass of a stage
        inside a new ``step_context()``. Returns the losses summed over the
        rows (one per layer, then the head's)."""
        stages = self.plan(core)
        n_batches, batch = _batch_fn(order, batch_rows, fetch)
        belief = core.belief_pass
        expected = {
            src: [
                lab
                for dst, lab in _sends(src, self.world, n_batches, belief)
                if dst == self.rank
            ]
            for src in range(self.world)
            if src != self.rank
        }
        link = _DistLink(self.device, expected)
        totals = torch.zeros(len(core.layers) + 1, device=self.device)
        stage = _Stage(core, self.rank, stages, link, batch, generator, totals)
        try:
            for action in _schedule(self.rank, self.world, n_batches, belief):
                with step_context():
                    stage.run(action)
        except BaseException:
            link.pending = []  # a peer may be gone: wait for nothing
            raise
        link.finish()
        self._stages = stages
        return self._sum(totals)

    def synchronize(self, core) -> None:
        """Every stage's weights, buffers and optimizer states to every
        process (after the epochs since the last call)."""
        if self._stages is not None:
            self._share_stages(core, self._stages)
            self._stages = None

    def _share_stages(self, core, stages) -> None:
        """:meth:`synchronize` for the given stages: each is broadcast from
        the process that trained it."""
        names = list(core.state_dict())
        for r, (lo, hi) in enumerate(stages):
            owned = {f"layers.{i}." for i in range(lo, hi)}
            peers = {f"peer_mean_{i}" for i in range(lo, hi)}
            with_head = r + 1 == len(stages)
            keys = [
                k
                for k in names
                if k in peers
                or any(k.startswith(p) for p in owned)
                or (with_head and k.startswith("head."))
            ]
            payload = [None]
            if self.rank == r:
                state = core.state_dict()
                payload = [
                    {
                        "tensors": {k: state[k].detach().cpu() for k in keys},
                        "optimizers": {
                            i: _cpu_state(core._optimizers[i].state_dict())
                            for i in range(lo, hi)
                        },
                        "head": _cpu_state(core._head_optimizer.state_dict())
                        if with_head and core._head_optimizer is not None
                        else None,
                    }
                ]
            dist.broadcast_object_list(payload, src=r, device=self.device)
            if self.rank != r:
                got = payload[0]
                core.load_state_dict(got["tensors"], strict=False)
                for i, sd in got["optimizers"].items():
                    core._optimizers[i].load_state_dict(sd)
                if got["head"] is not None:
                    core._head_optimizer.load_state_dict(got["head"])


def _cpu_state(state: dict) -> dict:
    """An optimizer's ``state_dict`` with its tensors copied to the CPU."""
    return {
        "state": {
            k: {
                n: v.detach().cpu().clone() if torch.is_tensor(v) else v
                for n, v in s.items()
            }
            for k, s in state["state"].items()
        },
        "param_groups": state["param_groups"],
    }


class DataParallelTrainer(_Trainer):
    """Trains every layer on every process, each on its share of every
    mini-batch, the gradients combined after each layer's backward step (see
    the module's docstring)."""

    def __init__(self, device):
        super().__init__(device)
        self._pending = deque()
        self._shares = None

    def _step(self, opt) -> None:
        """``core.optimizer_step``: start gathering ``opt``'s gradients; finish
        the layer before, whose gathering overlapped this one's work."""
        params = [p for g in opt.param_groups for p in g["params"]]
        flat = torch.cat(
            [
                (p.grad if p.grad is not None else torch.zeros_like(p)).reshape(-1)
                for p in params
            ]
        ).float()
        out = [torch.empty_like(flat) for _ in range(self.world)]
        work = dist.all_gather(out, flat, async_op=True)
        self._pending.append((opt, params, work, out))
        while len(self._pending) > 1:
            self._finish_one()

    def _finish_one(self) -> None:
        opt, params, work, out = self._pending.popleft()
        work.wait()
        total = out[0] * self._shares[0]
        for part, share in zip(out[1:], self._shares[1:], strict=True):
            total += part * share
        start = 0
        for p in params:
            n = p.numel()
            p.grad = total[start : start + n].view_as(p).to(p.dtype)
            start += n
        opt.step()

    def synchronize(self, core) -> None:
        """Nothing to do: every process holds the whole network, the same."""

    def _flush(self) -> None:
        while self._pending:
            self._finish_one()

    def run_epoch(self, core, order, batch_rows, fetch, generator, seed, step_context):
        """One epoch: this process's share of every mini-batch (as
        :meth:`PipelineTrainer.run_epoch`, a new ``step_context()`` per
        mini-batch)."""
        n, world = len(order), self.world
        if n < world:
            raise ValueError(
                f"data parallel training over {world} processes needs at least "
                f"{world} rows; got {n}"
            )
        bounds = list(range(0, n, batch_rows)) + [n]
        # a last mini-batch smaller than the group joins the one before
        if len(bounds) > 2 and bounds[-1] - bounds[-2] < world:
            del bounds[-2]
        if self.rank:
            generator = torch.Generator(device=generator.device).manual_seed(
                (seed + 7_919 * self.rank) % 2**62
            )
        totals = torch.zeros(len(core.layers) + 1, device=self.device)
        core.optimizer_step = self._step
        try:
            for start, stop in zip(bounds[:-1], bounds[1:], strict=True):
                idx = order[start:stop]
                cuts = [len(idx) * r // world for r in range(world + 1)]
                x, y, w = fetch(idx[cuts[self.rank] : cuts[self.rank + 1]], True)
                if w is None:
                    self._shares = [
                        (cuts[r + 1] - cuts[r]) / len(idx) for r in range(world)
                    ]
                else:
                    _, _, w_all = fetch(idx, False)
                    sums = [w_all[cuts[r] : cuts[r + 1]].sum() for r in range(world)]
                    total = torch.stack(sums).sum()
                    self._shares = [
                        (s / total).item() if total > 0 else 1.0 / world for s in sums
                    ]
                with step_context():
                    losses = core.train_step(x, y, generator, weight=w)
                    self._flush()
                totals += losses.float() * y.shape[0]
        finally:
            self._pending.clear()
            core.optimizer_step = None
        with torch.no_grad():
            for buf in core.buffers():
                if buf.is_floating_point():
                    buf.copy_(self._sum(buf).to(buf.device) / world)
        return self._sum(totals)
