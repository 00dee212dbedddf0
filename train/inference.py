"""A trained model ready for inference, and the bits-per-character arithmetic that
held-out evaluation (train.evaluate) and document scoring (train.score) share.

`load_lm(path, device)` reads either a checkpoint folder of the trainer
(OUT/checkpoints/step-NNNNNNN: DCP shards + trainer.json; its tokenizer is found beside
the run and checked against the tokenizer hash the run recorded), a run folder (its
`checkpoints/latest`), or a Hugging Face export (OUT/hf: config.json, weights, tokenizer).
A checkpoint's windows are its training sequence length; an export records none, so its
windows are its max_position_embeddings.
"""

from __future__ import annotations

import json
import math
import os
from dataclasses import dataclass
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    import torch

LN2 = math.log(2)


class ModelLoadError(ValueError):
    """A model path that holds no loadable model; the message names the path."""


def bits_per_char(nats: float, chars: int) -> float:
    """Total loss in nats as bits per character: comparable across tokenizers, since the
    characters are the same whatever the tokenizer cut them into."""
    return nats / LN2 / chars if chars else float("nan")


def pick_device(name: str = "auto") -> torch.device:
    """auto: CUDA where there is one, else the CPU."""
    import torch

    if name == "auto":
        return torch.device("cuda" if torch.cuda.is_available() else "cpu")
    if name.startswith("cuda") and not torch.cuda.is_available():
        raise ModelLoadError(f"--device {name}: no CUDA device here")
    return torch.device(name)


def load_checkpoint_model(ckpt: str, device: torch.device):
    """The model of a DCP checkpoint, on `device`, unsharded; and its trainer.json."""
    import torch.distributed.checkpoint as dcp
    from torch.distributed.checkpoint.state_dict import get_model_state_dict, set_model_state_dict

    from train.config import ModelConfig
    from train.model import GPTNeoX
    from train.ops import op_table, resolve_ops

    with open(os.path.join(ckpt, "trainer.json"), encoding="utf-8") as f:
        trainer = json.load(f)
    use_kernels = device.type == "cuda"
    resolve_ops(use_kernels, device)
    model = GPTNeoX(ModelConfig(**trainer["run"]["model_config"]), op_table(use_kernels))
    model.init_weights()
    model.to(device)
    state = {"model": get_model_state_dict(model)}
    dcp.load(state, checkpoint_id=ckpt)
    set_model_state_dict(model, state["model"])
    return model, trainer


@dataclass
class LanguageModel:
    """A model in eval mode with the tokenizer it was trained with."""

    model: torch.nn.Module
    tokenizer: object  # tokenizers.Tokenizer
    eos_id: int
    seq_len: int  # the context a window may fill (the training sequence length)
    device: torch.device
    path: str


def resolve_model(path: str) -> tuple[str, str]:
    """(the folder to load, "checkpoint" | "hf") for a model path; a run folder stands for
    its newest complete checkpoint. Reads no weights (and imports no torch), so a recipe
    naming a wrong folder fails when it loads."""
    path = os.path.normpath(path)
    if not os.path.isdir(path):
        raise ModelLoadError(f"{path}: no such model folder")
    latest = os.path.join(path, "checkpoints", "latest")
    if os.path.isfile(latest):
        with open(latest, encoding="utf-8") as f:
            path = os.path.join(path, "checkpoints", f.read().strip())
    if os.path.isfile(os.path.join(path, "trainer.json")):
        return path, "checkpoint"
    if os.path.isfile(os.path.join(path, "config.json")):
        return path, "hf"
    raise ModelLoadError(
        f"{path}: not a model: no trainer.json (a checkpoint), config.json (a Hugging Face export) "
        "or checkpoints/latest (a training run)"
    )


def load_lm(path: str, device: torch.device) -> LanguageModel:
    """The model at `path` (see the module docstring); ModelLoadError names the path."""
    path, kind = resolve_model(path)
    try:
        if kind == "checkpoint":
            model, trainer = load_checkpoint_model(path, device)
            tok_dir, seq_len = checkpoint_tokenizer(path, trainer), int(trainer["run"]["seq_len"])
        else:
            model, tok_dir = _load_hf(path, device), path
            seq_len = model.cfg.max_seq_len
        tokenizer, eos_id = _tokenizer(tok_dir)
    except ModelLoadError:
        raise
    except (OSError, KeyError, RuntimeError, ValueError, TypeError) as exc:
        raise ModelLoadError(f"{path}: the model does not load: {type(exc).__name__}: {exc}") from exc
    model.eval()
    return LanguageModel(model, tokenizer, eos_id, seq_len, device, path)


def _load_hf(path: str, device: torch.device):
    from train.model import load_hf
    from train.ops import op_table, resolve_ops

    use_kernels = device.type == "cuda"
    resolve_ops(use_kernels, device)
    return load_hf(path, device=device, ops=op_table(use_kernels))


def checkpoint_tokenizer(ckpt: str, trainer: dict) -> str:
    """The tokenizer folder a checkpoint's run trained with: the run's export, the one it
    trained on the fly, or its token shards' (or mixture's) own; the first whose
    tokenizer.json has the hash the run recorded."""
    from train.token_shards import tokenizer_hash

    run_out = os.path.dirname(os.path.dirname(os.path.abspath(ckpt)))
    candidates = [os.path.join(run_out, "hf"), os.path.join(run_out, "tokenizer")]
    tokens = trainer.get("tokens")
    if tokens and os.path.isfile(os.path.join(tokens, "manifest.json")):  # token shards or a mixture
        with open(os.path.join(tokens, "manifest.json"), encoding="utf-8") as f:
            candidates.append(os.path.join(tokens, json.load(f).get("tokenizer_dir", "tokenizer")))
    want = trainer["run"]["tokenizer_hash"]
    for tok_dir in candidates:
        if os.path.isfile(os.path.join(tok_dir, "tokenizer.json")) and tokenizer_hash(tok_dir) == want:
            return tok_dir
    raise ModelLoadError(f"{ckpt}: no tokenizer.json with the run's hash {want} in {', '.join(candidates)}")


def _tokenizer(tok_dir: str):
    from tokenizers import Tokenizer

    from train.data import EOS

    tok = Tokenizer.from_file(os.path.join(tok_dir, "tokenizer.json"))
    eos_id = tok.token_to_id(EOS)
    if eos_id is None:
        raise ModelLoadError(f"{tok_dir}: tokenizer has no {EOS} token")
    return tok, eos_id
