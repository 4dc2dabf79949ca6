#!/usr/bin/env python
"""Regenerate the default frequency tables shipped in src/portabench/data/frequencies/.

For each framework, download the wheels of widely used open-source packages
WITHOUT installing them (``pip download --no-deps --only-binary :all:``: no
dependency is resolved, nothing is built, the environment is untouched), unpack
each wheel into a temporary directory and mine the unpacked directories with
:func:`portabench.mining.mine_sources` -- the library function behind
``portabench mine``; the equivalent command is
``portabench mine --framework <fw> <unpacked wheel dirs...>``. An unpacked wheel is
recorded in the table's ``sources`` by the name and version of its ``*.dist-info``.

Usage (from the repository root, network access to PyPI needed)::

    PYTHONPATH=src python scripts/regenerate_frequencies.py                 # all three, pinned versions
    PYTHONPATH=src python scripts/regenerate_frequencies.py --framework jax
    PYTHONPATH=src python scripts/regenerate_frequencies.py --latest        # newest releases instead of pins
    PYTHONPATH=src python scripts/regenerate_frequencies.py --apps          # the application tables (<fw>-apps.json)

The pins below are the versions the shipped tables were mined from. ``--apps`` mines
:data:`APPS` instead -- application-style code (tutorial code, training scripts and
end-user applications shipped as wheels) rather than libraries -- into
``<framework>-apps.json``, chosen with ``portabench sample --table torch-apps``
(docs/sampling.md compares the two kinds of table).
"""

from __future__ import annotations

import argparse
import json
import shlex
import subprocess
import sys
import tempfile
import zipfile
from pathlib import Path

from portabench.mining import mine_sources

#: framework -> the PyPI distributions mined for its default table, pinned.
PACKAGES: dict[str, list[str]] = {
    "torch": [
        "transformers==5.23.0",
        "timm==1.0.31",
        "torchmetrics==1.9.0",
        "lightning==2.6.6",
        "accelerate==1.15.0",
        "diffusers==0.42.1",
    ],
    "jax": [
        "flax==0.12.8",
        "optax==0.2.8",
        "equinox==0.13.8",
        "numpyro==0.22.0",
        "diffrax==0.7.2",
        "chex==0.1.92",
        "dm-haiku==0.0.17",
    ],
    "tensorflow": [
        "tf-keras==2.21.0",
        "tensorflow-probability==0.25.0",
        "tensorflow-hub==0.16.1",
        "tensorflow-model-optimization==0.8.1",
    ],
}

#: framework -> application-style distributions: the book "Dive into Deep Learning"'s code (d2l), training
#: recipes and scripts (torchtune, levanter, brax training, dopamine runners, TF Model Garden trainers,
#: tf-agents examples) and end-user applications (ultralytics YOLO, stable-baselines3, fastai), pinned.
APPS: dict[str, list[str]] = {
    "torch": ["d2l==1.0.3", "torchtune==0.6.1", "ultralytics==8.4.190", "stable-baselines3==2.9.2", "fastai==2.8.12"],
    "jax": ["d2l==1.0.3", "brax==0.14.2", "dopamine-rl==4.1.2", "levanter==1.1"],
    "tensorflow": ["d2l==1.0.3", "tf-models-official==2.20.0", "tf-agents==0.19.0", "dopamine-rl==4.1.2"],
}

DEFAULT_OUTPUT = Path(__file__).resolve().parent.parent / "src" / "portabench" / "data" / "frequencies"


def download_wheel(requirement: str, dest: Path, python_version: str) -> Path:
    """Download one wheel (no dependencies, no builds) into ``dest`` and return its path."""
    dest.mkdir(parents=True, exist_ok=True)
    cmd = [
        sys.executable, "-m", "pip", "download", "--no-deps", "--only-binary", ":all:",
        "--python-version", python_version, "--quiet", requirement, "-d", str(dest),
    ]  # fmt: skip
    subprocess.run(cmd, check=True)
    wheels = sorted(dest.glob("*.whl"))
    if len(wheels) != 1:
        raise SystemExit(f"expected one wheel for {requirement} in {dest}, found {[w.name for w in wheels]}")
    return wheels[0]


def unpack(wheel: Path, dest: Path) -> Path:
    """Unpack a wheel (a zip file) into ``dest``; the directory keeps the wheel's ``*.dist-info``."""
    with zipfile.ZipFile(wheel) as archive:
        archive.extractall(dest)
    return dest


def regenerate(framework: str, requirements: list[str], workdir: Path, output: Path, python_version: str,
               suffix: str = "") -> dict:
    """Download, unpack and mine ``requirements``; write ``output/<framework><suffix>.json`` and return the table."""
    dirs: list[str] = []
    for requirement in requirements:
        name = requirement.split("==", 1)[0]
        wheel = download_wheel(requirement, workdir / "wheels" / name, python_version)
        dirs.append(str(unpack(wheel, workdir / "unpacked" / name)))
        print(f"[{framework}] {wheel.name}", file=sys.stderr)
    result = mine_sources(framework, dirs)
    result.generated_by = "python scripts/regenerate_frequencies.py --framework {}{} ({})".format(
        framework, " --apps" if suffix else "", shlex.join(requirements)
    )
    table = result.to_json()
    output.mkdir(parents=True, exist_ok=True)
    path = output / f"{framework}{suffix}.json"
    path.write_text(json.dumps(table, indent=1) + "\n", encoding="utf-8")
    print(
        f"[{framework}] {path}: {len(table['counts'])} names, {len(table['method_candidates'])} method candidates, "
        f"{table['files_read']} files read, {table['files_skipped']} skipped, {path.stat().st_size} bytes",
        file=sys.stderr,
    )
    return table


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--framework", choices=sorted(PACKAGES), action="append", help="repeatable; default all")
    parser.add_argument("--output", type=Path, default=DEFAULT_OUTPUT, help="directory the tables are written to")
    parser.add_argument("--latest", action="store_true", help="mine the newest releases instead of the pins")
    parser.add_argument("--python-version", default="3.11", help="Python version whose wheels are downloaded")
    parser.add_argument("--keep", type=Path, help="download and unpack here instead of a deleted temp dir")
    parser.add_argument("--apps", action="store_true", help="mine the application-style packages (APPS) into <fw>-apps.json")
    args = parser.parse_args(argv)
    suffix = "-apps" if args.apps else ""
    for framework in args.framework or sorted(PACKAGES):
        requirements = (APPS if args.apps else PACKAGES)[framework]
        if args.latest:
            requirements = [r.split("==", 1)[0] for r in requirements]
        if args.keep:
            regenerate(framework, requirements, args.keep / f"{framework}{suffix}", args.output, args.python_version, suffix)
        else:
            with tempfile.TemporaryDirectory(prefix="portabench-mine-") as tmp:
                regenerate(framework, requirements, Path(tmp), args.output, args.python_version, suffix)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
