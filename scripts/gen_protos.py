"""Generate the Python code for protos/ into shared/ (the `levante` package).

    python scripts/gen_protos.py           # regenerate (also: make protos)
    python scripts/gen_protos.py --check   # exit 1 if the committed code drifted

The proto package `levante.v2` becomes `levante.v2` (shared/v2/) and
`levante.internal.v1` becomes `levante.internal.v1` (shared/internal/v1/).
The generator version is pinned in pyproject.toml so output is reproducible.

Beside the code, `levante/v2/descriptors.binpb` holds the public protos as a
FileDescriptorSet *with* source info: the generated modules drop comments,
and the OpenAPI description of the transcoded REST face shows them.
"""

from __future__ import annotations

import argparse
import filecmp
import shutil
import sys
import tempfile
from pathlib import Path

import google.api
import grpc_tools
from grpc_tools import protoc

ROOT = Path(__file__).resolve().parent.parent
PROTOS = ROOT / "protos"
TARGET = ROOT / "shared"
# Generated packages, relative to both the protoc output root's `levante/`
# folder and shared/.
PACKAGES = ("v2", "internal", "internal/v1")
GENERATED = (".py", ".pyi", ".binpb")
# The public API's descriptors with comments (see the module docstring).
SOURCE_INFO = Path("v2") / "descriptors.binpb"


def _generate(out: Path) -> None:
    googleapis = Path(google.api.__path__[0]).parent.parent
    well_known = Path(grpc_tools.__path__[0]) / "_proto"
    sources = sorted(str(p.relative_to(PROTOS)) for p in PROTOS.rglob("*.proto"))
    args = [
        "protoc",
        f"-I{PROTOS}",
        f"-I{googleapis}",
        f"-I{well_known}",
        f"--python_out={out}",
        f"--pyi_out={out}",
        f"--grpc_python_out={out}",
        *sources,
    ]
    if protoc.main(args) != 0:
        raise SystemExit("protoc failed")
    public = [source for source in sources if source.startswith(f"levante/{SOURCE_INFO.parent}/")]
    described = [
        "protoc",
        *args[1:4],
        f"--descriptor_set_out={out / 'levante' / SOURCE_INFO}",
        "--include_source_info",
        *public,
    ]
    if protoc.main(described) != 0:
        raise SystemExit("protoc failed (descriptor set)")
    for package in PACKAGES:
        init = out / "levante" / package / "__init__.py"
        init.write_text('"""Generated from protos/; do not edit (scripts/gen_protos.py)."""\n')


def _files(root: Path) -> set[str]:
    found: set[str] = set()
    for package in PACKAGES:
        folder = root / package
        if folder.is_dir():
            found.update(
                str(p.relative_to(root)) for p in folder.iterdir() if p.suffix in GENERATED
            )
    return found


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--check", action="store_true", help="fail if shared/ differs")
    options = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        out = Path(tmp)
        _generate(out)
        fresh = out / "levante"
        if options.check:
            expected, actual = _files(fresh), _files(TARGET)
            drift = sorted(expected ^ actual) + sorted(
                name
                for name in expected & actual
                if not filecmp.cmp(fresh / name, TARGET / name, shallow=False)
            )
            if drift:
                print("generated code drifted from protos/; run `make protos`:", *drift, sep="\n  ")
                return 1
            print("generated code matches protos/")
            return 0
        for package in PACKAGES:
            target = TARGET / package
            target.mkdir(parents=True, exist_ok=True)
            for old in target.iterdir():
                if old.suffix in GENERATED:
                    old.unlink()
            for new in (fresh / package).iterdir():
                if new.suffix in GENERATED:
                    shutil.copy2(new, target / new.name)
    return 0


if __name__ == "__main__":
    sys.exit(main())
