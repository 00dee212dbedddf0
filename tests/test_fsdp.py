"""FSDP2 on CPU: two gloo processes give the loss and gradients of one process on the
same batch, and the same weights after a clipped AdamW step."""

from __future__ import annotations

import os
import socket

import pytest
import torch
import torch.multiprocessing as mp

from train.config import ModelConfig
from train.model import GPTNeoX

CFG = ModelConfig(n_layer=2, d_model=64, d_ff=256, n_head=4, vocab_size=256, max_seq_len=32)
WORLD = 2
TOL = dict(atol=1e-5, rtol=1e-5)


def _model() -> GPTNeoX:
    model = GPTNeoX(CFG)
    model.init_weights(seed=11)
    with torch.no_grad():  # non-trivial biases and norms, so their gradients are checked too
        g = torch.Generator().manual_seed(12)
        for p in model.parameters():
            if p.ndim == 1:
                p.add_(torch.randn(p.shape, generator=g) * 0.1)
    return model


def _batch():
    g = torch.Generator().manual_seed(13)
    idx = torch.randint(0, CFG.vocab_size, (4, 17), generator=g)
    return idx[:, :-1], idx[:, 1:]


def _step(model, x, y):
    """Loss and gradients, then one clipped AdamW step."""
    loss = model(x, targets=y)
    loss.backward()
    grads = {n: p.grad.detach().clone() for n, p in model.named_parameters()}
    opt = torch.optim.AdamW(model.parameters(), lr=1e-2, weight_decay=0.1)
    norm = torch.nn.utils.clip_grad_norm_(model.parameters(), 0.5)
    opt.step()
    return loss.detach(), grads, norm


def _full(t):
    return t.full_tensor() if hasattr(t, "full_tensor") else t


def _worker(rank: int, port: int, out: str):
    import torch.distributed as dist
    from torch.distributed.algorithms._checkpoint.checkpoint_wrapper import _CHECKPOINT_PREFIX
    from torch.distributed.device_mesh import init_device_mesh

    from train.fsdp import parallelize

    torch.set_num_threads(1)
    os.environ.update(MASTER_ADDR="127.0.0.1", MASTER_PORT=str(port))
    dist.init_process_group("gloo", rank=rank, world_size=WORLD)
    try:
        mesh = init_device_mesh("cpu", (WORLD,))
        model = parallelize(_model(), mesh, bf16=False)
        x, y = _batch()
        per = x.shape[0] // WORLD
        loss, grads, norm = _step(model, x[rank * per : (rank + 1) * per], y[rank * per : (rank + 1) * per])
        dist.all_reduce(loss)
        result = {
            "loss": loss / WORLD,
            "grads": {n: _full(g) for n, g in grads.items()},
            "norm": _full(norm),
            "params": {n: _full(p.detach()) for n, p in model.named_parameters()},
            "sharded": all(hasattr(p, "full_tensor") for p in model.parameters()),
        }
        # bf16 mixed precision (FSDP casts each block's inputs) with and without activation
        # checkpointing: the recomputed forward must see the same bf16 inputs
        for ac in (False, True):
            m = parallelize(_model(), mesh, bf16=True, ac=ac)
            half = slice(rank * per, (rank + 1) * per)
            loss = m(x[half], targets=y[half])
            loss.backward()
            # the checkpoint wrapper's name is in parameter names (not in the state dict): drop it
            grads = {n.replace(_CHECKPOINT_PREFIX, ""): _full(p.grad) for n, p in m.named_parameters()}
            result[f"bf16_ac{int(ac)}"] = (loss.detach(), grads, any(_CHECKPOINT_PREFIX in n for n in m.state_dict()))
        if rank == 0:
            torch.save(result, out)
        dist.barrier()
    finally:
        dist.destroy_process_group()


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pytest.fixture(scope="module")
def both(tmp_path_factory):
    out = str(tmp_path_factory.mktemp("fsdp") / "rank0.pt")
    mp.spawn(_worker, args=(_free_port(), out), nprocs=WORLD, join=True)
    sharded = torch.load(out, weights_only=False)
    model = _model()
    loss, grads, norm = _step(model, *_batch())
    single = {
        "loss": loss,
        "grads": grads,
        "norm": norm,
        "params": {n: p.detach() for n, p in model.named_parameters()},
    }
    return single, sharded


def test_parameters_are_sharded(both):
    assert both[1]["sharded"]


def test_same_loss(both):
    single, sharded = both
    torch.testing.assert_close(sharded["loss"], single["loss"], **TOL)


def test_same_gradients(both):
    """FSDP averages gradients over ranks (each rank's loss is a mean over its half of the
    batch), which is exactly the full-batch gradient. Gloo has no AVG reduction, so torch
    sums and divides by the world size itself; a sum left undivided would show up here
    as a factor of exactly WORLD, which we name rather than hide."""
    single, sharded = both
    for name, ref in single["grads"].items():
        got = sharded["grads"][name]
        if not torch.allclose(got, ref, **TOL) and torch.allclose(got, WORLD * ref, **TOL):
            pytest.fail(f"{name}: gradients are the SUM over {WORLD} ranks, not the average (gloo reduction)")
        torch.testing.assert_close(got, ref, **TOL, msg=lambda m: f"{name}: {m}")
    torch.testing.assert_close(sharded["norm"], single["norm"], **TOL)


def test_same_weights_after_a_clipped_adamw_step(both):
    """Adam's first update is lr * g / (|g| + eps), about lr * sign(g): for a gradient near
    zero, a rounding difference of 1e-9 in g can flip a good part of lr. So the weights
    are held to 1% of lr (1e-4), the gradients themselves to 1e-5 above."""
    single, sharded = both
    for name, ref in single["params"].items():
        torch.testing.assert_close(sharded["params"][name], ref, atol=1e-4, rtol=1e-5, msg=lambda m: f"{name}: {m}")


def test_activation_checkpointing_under_bf16_fsdp(both):
    _, sharded = both
    (loss0, grads0, _), (loss1, grads1, wrapper_in_state_dict) = sharded["bf16_ac0"], sharded["bf16_ac1"]
    assert not wrapper_in_state_dict  # checkpoints and exports keep the model's own names
    assert grads0.keys() == grads1.keys()
    assert torch.equal(loss0, loss1)
    for name, g in grads0.items():
        torch.testing.assert_close(grads1[name], g, atol=0, rtol=0, msg=lambda m: f"{name}: {m}")
