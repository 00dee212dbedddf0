"""The project installs as users install it, and its import names are its own.

The top-level folder kernels/ is imported as `polyglot_kernels`: Hugging Face's package
`kernels` (which transformers >= 5 imports) owns that name. These tests check that no
import name of ours is also installed by a dependency, that setup.cfg ships every
package folder, and that a wheel in a clean virtual environment, used from outside the
repo, loads transformers' GPT-NeoX and resolves the trainer's ops to our Triton kernels.
"""

from __future__ import annotations

import os
import subprocess
import sys
import textwrap
from importlib import metadata
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
OUR_IMPORT_NAMES = {"curate", "pipelines", "train", "polyglot_kernels"}
# Folders whose files the wheel ships, and the import name each is shipped under.
PACKAGE_FOLDERS = {"curate": "curate", "pipelines": "pipelines", "train": "train", "kernels": "polyglot_kernels"}


def setup_cfg_packages() -> tuple[list[str], dict[str, str]]:
    from setuptools.config.setupcfg import read_configuration

    options = read_configuration(str(ROOT / "setup.cfg"))["options"]
    return options["packages"], options.get("package_dir", {})


def tracked_files(folder: str) -> list[str]:
    out = subprocess.run(["git", "ls-files", folder], cwd=ROOT, capture_output=True, text=True)
    if out.returncode != 0:
        pytest.skip("not a git checkout")
    return [line for line in out.stdout.splitlines() if line]


def test_no_dependency_installs_our_import_names():
    owners = metadata.packages_distributions()
    for name in sorted(OUR_IMPORT_NAMES | {"kernels"}):
        others = {d for d in owners.get(name, []) if d.lower().replace("_", "-") != "polyglot-curate"}
        if name == "kernels":
            continue  # Hugging Face's; ours is imported as polyglot_kernels
        assert not others, f"import name {name!r} is also installed by {sorted(others)}"
    assert not (ROOT / "kernels" / "__init__.py").exists(), (
        "kernels/__init__.py would make `import kernels` from the repo root shadow Hugging Face's package"
    )


def test_import_kernels_from_repo_root_is_hugging_faces():
    """From the repo root (python -m ..., pytest) transformers must still find its `kernels`."""
    code = "import kernels, sys; print(kernels.__file__)"
    out = subprocess.run([sys.executable, "-c", code], cwd=ROOT, capture_output=True, text=True, check=True)
    assert str(ROOT / "kernels") not in out.stdout, out.stdout


def test_setup_cfg_ships_every_package_folder():
    packages, package_dir = setup_cfg_packages()
    assert package_dir.get("polyglot_kernels") == "kernels"
    for folder, name in PACKAGE_FOLDERS.items():
        dirs = {os.path.dirname(f) for f in tracked_files(folder)}
        for d in sorted(dirs):
            dotted = name + d[len(folder) :].replace("/", ".")
            assert dotted in packages, f"{d}/ holds tracked files but setup.cfg does not list {dotted}"


@pytest.fixture(scope="module")
def wheel_venv(tmp_path_factory) -> Path:
    """A clean venv with the project installed from its wheel (not editable), beside
    torch, triton and transformers at the versions of requirements.lock."""
    tmp = tmp_path_factory.mktemp("wheel")
    subprocess.run(
        [
            sys.executable,
            "-m",
            "pip",
            "wheel",
            "--quiet",
            "--no-deps",
            "--no-build-isolation",
            "-w",
            str(tmp / "dist"),
            str(ROOT),
        ],
        check=True,
        capture_output=True,
    )
    wheels = list((tmp / "dist").glob("polyglot_curate-*.whl"))
    assert len(wheels) == 1, wheels
    # a PYTHONPATH pointing at a checkout (with the egg-info the build leaves there) would
    # make the venv's pip think the project is installed already
    outside = {k: v for k, v in os.environ.items() if k != "PYTHONPATH"}
    venv = tmp / "venv"
    subprocess.run([sys.executable, "-m", "venv", str(venv)], check=True)
    py = venv / "bin" / "python"
    lock = ROOT / "requirements.lock"
    # the wheel, and what the model and kernels import, at the locked versions (the whole
    # dependency set would add minutes of Ray, Arrow and friends to no purpose here)
    subprocess.run(
        [str(py), "-m", "pip", "install", "--quiet", "--no-deps", str(wheels[0])],
        check=True,
        capture_output=True,
        cwd=tmp,
        env=outside,
    )
    subprocess.run(
        [str(py), "-m", "pip", "install", "--quiet", "-c", str(lock), "torch", "triton", "transformers"],
        check=True,
        capture_output=True,
        cwd=tmp,
        env=outside,
    )
    return py


def test_wheel_outside_repo_loads_transformers_and_our_kernels(wheel_venv, tmp_path):
    script = textwrap.dedent("""
        import torch, transformers
        from transformers import GPTNeoXConfig, GPTNeoXForCausalLM
        GPTNeoXForCausalLM(GPTNeoXConfig(vocab_size=64, hidden_size=32, num_hidden_layers=1,
                                         num_attention_heads=4, intermediate_size=64))
        import polyglot_kernels.ops as K
        from train.ops import kernel_ops, resolve_ops
        assert resolve_ops(True, "cpu") == {op: "triton" for op in K.OPS}, resolve_ops(True, "cpu")
        ops = kernel_ops()
        for op in K.OPS:
            assert ops[op] is getattr(K, op), op
            fn = K.triton_function(op)
            assert "site-packages" in __import__(fn.__module__, fromlist=["x"]).__file__, fn.__module__
        # the Triton path really runs (interpreted): layer_norm against the reference
        x, w, b = torch.randn(3, 40), torch.randn(40), torch.randn(40)
        assert K.use_triton(x)
        torch.testing.assert_close(ops["layer_norm"](x, w, b, 1e-5), K.reference.layer_norm(x, w, b, 1e-5),
                                   rtol=1e-4, atol=1e-4)
        import kernels
        print("hf kernels:", kernels.__file__)
        print("ok")
    """)
    env = {k: v for k, v in os.environ.items() if k not in ("PYTHONPATH", "KERNELS_REFERENCE")}
    env["TRITON_INTERPRET"] = "1"
    out = subprocess.run([str(wheel_venv), "-c", script], cwd=tmp_path, env=env, capture_output=True, text=True)
    assert out.returncode == 0, out.stderr[-3000:]
    assert out.stdout.strip().endswith("ok")
    assert "polyglot_kernels" not in out.stdout and str(ROOT) not in out.stdout


def test_lock_satisfies_setup_cfg_ranges():
    """requirements.lock pins what `make venv` installs; each pin must still fall inside
    the ranges setup.cfg gives people who install the package into their own environment."""
    from packaging.requirements import Requirement
    from packaging.utils import canonicalize_name
    from packaging.version import Version
    from setuptools.config.setupcfg import read_configuration

    options = read_configuration(str(ROOT / "setup.cfg"))["options"]
    wanted = [Requirement(r) for r in options["install_requires"]]
    wanted += [Requirement(r) for r in options["extras_require"]["test"]]
    pins = {}
    for line in (ROOT / "requirements.lock").read_text().splitlines():
        line = line.split("#", 1)[0].strip()
        if line and not line.startswith("-"):
            req = Requirement(line)
            (spec,) = req.specifier
            assert spec.operator == "==", line
            pins[canonicalize_name(req.name)] = Version(spec.version)
    for req in wanted:
        name = canonicalize_name(req.name)
        assert name in pins, f"{req.name} is required by setup.cfg but not locked"
        assert req.specifier.contains(pins[name], prereleases=True), (
            f"lock pins {name}=={pins[name]}, setup.cfg wants {req}"
        )
