"""Fixtures of the API unit tests: a made-up proto with every kind of http binding."""

from __future__ import annotations

from pathlib import Path

import google.api
import grpc_tools
import pytest
from google.protobuf import descriptor_pb2, descriptor_pool
from google.protobuf.descriptor import FileDescriptor
from grpc_tools import protoc

HERE = Path(__file__).parent


@pytest.fixture(scope="session")
def things(tmp_path_factory: pytest.TempPathFactory) -> FileDescriptor:
    """tests/unit/api/things.proto, compiled and added to the default pool."""
    out = tmp_path_factory.mktemp("things") / "things.binpb"
    googleapis = Path(google.api.__path__[0]).parent.parent
    well_known = Path(grpc_tools.__path__[0]) / "_proto"
    args = ["protoc", f"-I{HERE}", f"-I{googleapis}", f"-I{well_known}"]
    assert (
        protoc.main([*args, "--include_imports", f"--descriptor_set_out={out}", "things.proto"])
        == 0
    )
    pool = descriptor_pool.Default()
    for file in descriptor_pb2.FileDescriptorSet.FromString(out.read_bytes()).file:
        try:
            pool.FindFileByName(file.name)
        except KeyError:
            pool.Add(file)
    return pool.FindFileByName("things.proto")
