"""The tiny GPT-NeoX trained 20 steps with the Triton kernels (interpreter, CPU, fp32)
and with the torch ops gives the same loss curve to 1e-4.

Runs in a subprocess because TRITON_INTERPRET=1 must be set before triton is imported.
Tokens are the UTF-8 bytes of real Japanese Wikipedia text (ids < 256 of the vocab).
"""

import json
import os
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
SAMPLE = Path(__file__).parent / "data" / "kernels" / "ja-wiki-jsquad-sample.txt"
STEPS, BATCH, SEQ = 20, 2, 32


def train_losses(use_kernels: bool, device: str = "cpu") -> list[float]:
    import torch

    from train.config import get_config
    from train.model import GPTNeoX
    from train.ops import op_table

    torch.manual_seed(0)
    data = torch.tensor(list(SAMPLE.read_bytes()), dtype=torch.long)
    model = GPTNeoX(get_config("tiny"), op_table(use_kernels))
    model.init_weights(seed=0)
    model.to(device)
    opt = torch.optim.AdamW(model.parameters(), lr=1e-3, weight_decay=0.1)
    gen = torch.Generator().manual_seed(0)
    losses = []
    for _ in range(STEPS):
        starts = torch.randint(0, len(data) - SEQ - 1, (BATCH,), generator=gen)
        x = torch.stack([data[s : s + SEQ] for s in starts])
        y = torch.stack([data[s + 1 : s + SEQ + 1] for s in starts])
        y[:, :4] = -100  # exercise ignore_index as a masked prompt would
        loss = model(x.to(device), y.to(device))
        opt.zero_grad(set_to_none=True)
        loss.backward()
        torch.nn.utils.clip_grad_norm_(model.parameters(), 1.0)
        opt.step()
        losses.append(loss.item())
    return losses


def test_kernels_on_and_off_give_the_same_loss_curve():
    env = dict(os.environ, TRITON_INTERPRET="1", PYTHONPATH=str(ROOT))
    env.pop("KERNELS_REFERENCE", None)
    proc = subprocess.run([sys.executable, __file__], env=env, cwd=ROOT, capture_output=True, text=True, timeout=600)
    assert proc.returncode == 0, proc.stdout + proc.stderr
    result = json.loads(proc.stdout.strip().splitlines()[-1])
    on, off = result["on"], result["off"]
    print("kernels on :", on)
    print("kernels off:", off)
    assert len(on) == len(off) == STEPS
    assert off[-1] < off[0] - 0.5  # it really trains
    for step, (a, b) in enumerate(zip(on, off)):
        assert abs(a - b) <= 1e-4, f"step {step}: kernels {a} vs torch {b}"


if __name__ == "__main__":
    import torch

    sys.path.insert(0, str(ROOT))
    from polyglot_kernels import ops as kernels

    # `--device cuda` runs the same comparison with compiled kernels on a GPU
    device = sys.argv[sys.argv.index("--device") + 1] if "--device" in sys.argv else "cpu"
    torch.set_num_threads(1)
    assert kernels.use_triton(torch.zeros(1, device=device)), "run with TRITON_INTERPRET=1 (or on CUDA)"
    print(json.dumps({"on": train_losses(True, device), "off": train_losses(False, device)}))
