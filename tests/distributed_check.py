"""One rank of tests/test_torch_distributed.py: arrayloss inside torch.distributed.

Run as ``python distributed_check.py RANK WORLD_SIZE WORKDIR``: joins a gloo process
group through a file in WORKDIR (no network port), loads the model and the full batch
from WORKDIR/data.npz, takes its share of the batch (rank r: the r-th contiguous block
of rows), and for each case of :data:`CASES` wraps a fresh copy of the
model in DistributedDataParallel (and, where it works, FSDP2's ``fully_shard``), runs one
forward and backward through an arrayloss loss, and saves the parameters' gradients to
WORKDIR/grads-RANK.npz (or the error to WORKDIR/error-RANK.txt). It asserts nothing:
the test compares the gradients with the single-process gradient on the full batch.
"""

from __future__ import annotations

import sys
import traceback
from pathlib import Path
from typing import Any

import numpy as np

#: The losses each rank computes (see ``loss_for``). The last is the pitfall the docs
#: warn of: a weighted 'mean' per rank is not the weighted mean of the whole batch.
CASES = (
    "cross_entropy",
    "bce_with_logits_pos_weight",
    "cross_entropy_weighted_global",
    "cross_entropy_weighted_local_mean",
)


def loss_for(case: str, out: Any, data: Any, rows: slice, world_size: int) -> Any:
    """The loss of one rank's rows, such that the gradients DDP averages over the ranks
    equal the full batch's gradient.

    'mean' over equal shares is the mean of the shares' means, so the first two cases
    are plain. A weighted mean (class weights, ignore_index) is not: each rank's
    denominator is its own total weight. The third case divides the local 'sum' by the
    global total weight (all-reduced) and multiplies by world_size, which DDP's average
    divides out again. The fourth case is the naive weighted 'mean' per rank, which
    weights the ranks equally whatever their total weight.
    """
    import torch
    import torch.distributed as dist

    import arrayloss

    t = torch.from_numpy
    if case == "cross_entropy":
        return arrayloss.cross_entropy(out, t(data["classes"][rows]))
    if case == "bce_with_logits_pos_weight":
        return arrayloss.binary_cross_entropy_with_logits(
            out, t(data["soft"][rows]), pos_weight=t(data["pos_weight"])
        )
    if case == "cross_entropy_weighted_global":
        target = t(data["ignored"][rows])
        weight = t(data["weight"])
        local = arrayloss.cross_entropy(out, target, weight=weight, reduction="sum")
        kept = target != -100
        total = weight[target.clamp(min=0)].where(kept, 0.0).sum()
        if world_size > 1:
            dist.all_reduce(total)
        return local / total * world_size
    if case == "cross_entropy_weighted_local_mean":
        target = t(data["ignored"][rows])
        return arrayloss.cross_entropy(out, target, weight=t(data["weight"]))
    raise ValueError(case)


def model_from(data: Any) -> Any:
    import torch

    model = torch.nn.Linear(data["w"].shape[1], data["w"].shape[0], dtype=torch.float64)
    with torch.no_grad():
        model.weight.copy_(torch.from_numpy(data["w"]))
        model.bias.copy_(torch.from_numpy(data["b"]))
    return model


def main(rank: int, world_size: int, workdir: Path) -> None:
    import torch
    import torch.distributed as dist
    from torch.nn.parallel import DistributedDataParallel

    dist.init_process_group(
        "gloo", init_method=f"file://{workdir / 'store'}", rank=rank, world_size=world_size
    )
    data = dict(np.load(workdir / "data.npz"))
    n = data["x"].shape[0] // world_size
    rows = slice(rank * n, (rank + 1) * n)
    x = torch.from_numpy(data["x"][rows])
    grads: dict[str, np.ndarray] = {}
    for case in CASES:
        model = DistributedDataParallel(model_from(data))
        loss_for(case, model(x), data, rows, world_size).backward()
        grads[f"ddp/{case}/weight"] = model.module.weight.grad.numpy()
        grads[f"ddp/{case}/bias"] = model.module.bias.grad.numpy()
    # FSDP2 on the CPU with gloo: the parameters sharded over the ranks (dim 0), gathered
    # for the forward; the gradients reduce-scattered (averaged) back into shards.
    try:
        from torch.distributed.device_mesh import init_device_mesh
        from torch.distributed.fsdp import fully_shard

        mesh = init_device_mesh("cpu", (world_size,))
        for case in CASES:
            model = model_from(data)
            fully_shard(model, mesh=mesh)
            loss_for(case, model(x), data, rows, world_size).backward()
            for name in ("weight", "bias"):
                grad = getattr(model, name).grad
                grads[f"fsdp/{case}/{name}"] = grad.full_tensor().numpy()
    except Exception:
        (workdir / f"fsdp-error-{rank}.txt").write_text(traceback.format_exc())
    np.savez(workdir / f"grads-{rank}.npz", **grads)
    # Both ranks done before either tears its connections down: without it a rank that
    # closed first could abort the other's gloo threads at exit ("terminate called
    # without an active exception", exit status -6: about one run in seven).
    dist.barrier()
    dist.destroy_process_group()


if __name__ == "__main__":
    rank, world_size, workdir = int(sys.argv[1]), int(sys.argv[2]), Path(sys.argv[3])
    try:
        main(rank, world_size, workdir)
    except Exception:
        (workdir / f"error-{rank}.txt").write_text(traceback.format_exc())
        raise
