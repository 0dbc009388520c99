"""Build the descriptor set of Levante's public protos, for a gRPC-JSON transcoder.

    python scripts/proto_descriptor.py OUT.pb

Envoy's grpc_json_transcoder (the Helm chart's gateway) reads the services,
messages and google.api.http rules from a FileDescriptorSet. This one holds
protos/levante/v2/*.proto with everything they import (google/api/*.proto
from PyPI's googleapis-common-protos, the well-known types from grpcio-tools),
so it stands alone. The Dockerfile builds it into the image at
/opt/levante/descriptors/levante.pb; to use it from a ConfigMap instead:

    kubectl create configmap levante-descriptors --from-file=levante.pb=OUT.pb
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

import google.api
import grpc_tools
from grpc_tools import protoc

ROOT = Path(__file__).resolve().parent.parent
PROTOS = ROOT / "protos"
PUBLIC = PROTOS / "levante" / "v2"


def build(out: Path) -> None:
    """Writes the descriptor set of the public API to `out`; raises SystemExit if protoc fails."""
    googleapis = Path(google.api.__path__[0]).parent.parent
    well_known = Path(grpc_tools.__path__[0]) / "_proto"
    sources = sorted(str(p.relative_to(PROTOS)) for p in PUBLIC.glob("*.proto"))
    out.parent.mkdir(parents=True, exist_ok=True)
    args = [
        "protoc",
        f"-I{PROTOS}",
        f"-I{googleapis}",
        f"-I{well_known}",
        "--include_imports",
        f"--descriptor_set_out={out}",
        *sources,
    ]
    if protoc.main(args) != 0:
        raise SystemExit("protoc failed")


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("out", type=Path, help="where to write the descriptor set")
    build(parser.parse_args().out)
    return 0


if __name__ == "__main__":
    sys.exit(main())
