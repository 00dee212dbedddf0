"""The input of an ablation split once, before any curation: the documents held out for
evaluation (by id hash, train.mixture.id_key), the training documents both arms curate,
and a clean reference slice read from other files.

A training document is also left out when its text (NFC, spacing folded) is that of a
held-out or reference document: short reviews repeat word for word under other ids, and
such a copy would put the evaluation text into training.

    SPLIT/train.jsonl       the training documents, each line as the input had it
    SPLIT/heldout.jsonl     the held-out documents evaluated (key order, up to a character cap)
    SPLIT/reference.jsonl   the reference documents evaluated (file order, up to a cap)
    SPLIT/split.json        what was read, held out and left out
"""

from __future__ import annotations

import gzip
import hashlib
import json
import os
import re
import shutil
import unicodedata
import uuid
from collections.abc import Iterator

from train.mixture import id_key

_SPACE = re.compile(r"\s+")


class AblationInputError(ValueError):
    pass


def fold(text: str) -> str:
    """The form two copies of one text share: NFC, runs of whitespace as one space."""
    return _SPACE.sub(" ", unicodedata.normalize("NFC", text)).strip()


def read_lines(path: str) -> Iterator[tuple[int, str, dict]]:
    """(line number, raw line, record) of a JSON Lines file (.gz or plain); a line that is
    no JSON object with a string id and text stops here, naming the file and line."""
    opener = gzip.open if path.endswith(".gz") else open
    with opener(path, "rt", encoding="utf-8") as f:
        for n, line in enumerate(f, 1):
            if not line.strip():
                continue
            try:
                rec = json.loads(line)
            except json.JSONDecodeError as exc:
                raise AblationInputError(f"{path}:{n}: not JSON ({exc.msg})") from None
            if not isinstance(rec, dict) or not isinstance(rec.get("text"), str) or not isinstance(rec.get("id"), str):
                raise AblationInputError(f"{path}:{n}: a record needs a string 'id' and 'text'")
            yield n, line.rstrip("\n"), rec


def files_sha256(paths: list[str]) -> str:
    h = hashlib.sha256()
    for path in paths:
        with open(path, "rb") as f:
            for block in iter(lambda: f.read(1 << 20), b""):
                h.update(block)
        h.update(b"\0")
    return h.hexdigest()


def split_key(inputs: list[str], references: list[str], opts: dict) -> str:
    """What the split depends on: the input and reference bytes, and the options."""
    text = json.dumps(
        {"inputs": files_sha256(inputs), "references": files_sha256(references), "opts": opts}, sort_keys=True
    )
    return hashlib.sha256(text.encode()).hexdigest()[:16]


def take_chars(records: list[dict], max_chars: int | None) -> list[dict]:
    """The first records while their characters stay within max_chars (at least one)."""
    out, total = [], 0
    for rec in records:
        total += len(rec["text"])
        if out and max_chars is not None and total > max_chars:
            break
        out.append(rec)
    return out


def read_reference(references: list[str], max_chars: int | None) -> list[dict]:
    records = [rec for path in references for _, _, rec in read_lines(path) if rec["text"].strip()]
    return take_chars(records, max_chars)


def write_jsonl(path: str, lines: list[str]) -> None:
    with open(path, "w", encoding="utf-8") as f:
        f.writelines(line + "\n" for line in lines)


def split_input(inputs: list[str], references: list[str], out: str, opts: dict) -> dict:
    """Write the split into `out` (made whole, then renamed into place); returns split.json.
    opts: heldout (fraction of ids), heldout_max_chars, reference_max_chars."""
    seen: dict[str, str] = {}
    held, rest = [], []
    for path in inputs:
        for n, line, rec in read_lines(path):
            if rec["id"] in seen:
                raise AblationInputError(f"{path}:{n}: id {rec['id']!r} already read at {seen[rec['id']]}")
            seen[rec["id"]] = f"{path}:{n}"
            key = id_key(rec["id"])
            (held if key < opts["heldout"] else rest).append((key, line, rec))
    if not held or not rest:
        raise AblationInputError(f"{', '.join(inputs)}: {len(held)} held-out and {len(rest)} training documents")
    held.sort(key=lambda item: item[0])
    evaluated = take_chars([rec for _, _, rec in held], opts.get("heldout_max_chars"))
    reference = read_reference(references, opts.get("reference_max_chars"))
    banned_held = {fold(rec["text"]) for _, _, rec in held}
    banned_ref = {fold(rec["text"]) for rec in reference}
    train, copies_held, copies_ref = [], 0, 0
    for _, line, rec in rest:
        folded = fold(rec["text"])
        copies_held += folded in banned_held
        copies_ref += folded in banned_ref and folded not in banned_held
        if folded not in banned_held and folded not in banned_ref:
            train.append(line)
    manifest = {
        "inputs": [os.path.abspath(p) for p in inputs],
        "references": [os.path.abspath(p) for p in references],
        "options": opts,
        "documents": len(seen),
        "held_out": len(held),
        "held_out_evaluated": len(evaluated),
        "train": len(train),
        "train_copies_of_held_out_dropped": copies_held,
        "train_copies_of_reference_dropped": copies_ref,
        "reference_evaluated": len(reference),
    }
    tmp = f"{out}.tmp-{uuid.uuid4().hex[:8]}"
    os.makedirs(tmp)
    try:
        write_jsonl(os.path.join(tmp, "train.jsonl"), train)
        write_jsonl(os.path.join(tmp, "heldout.jsonl"), [json.dumps(r, ensure_ascii=False) for r in evaluated])
        write_jsonl(os.path.join(tmp, "reference.jsonl"), [json.dumps(r, ensure_ascii=False) for r in reference])
        with open(os.path.join(tmp, "split.json"), "w", encoding="utf-8") as f:
            json.dump(manifest, f, indent=2)
        os.replace(tmp, out)
    except BaseException:
        shutil.rmtree(tmp, ignore_errors=True)
        raise
    return manifest


def read_texts(path: str) -> list[str]:
    return [rec["text"] for _, _, rec in read_lines(path)]
