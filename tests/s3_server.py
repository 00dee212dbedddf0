"""A local S3 endpoint for tests: moto's server on a free port of 127.0.0.1."""

import socket
from contextlib import contextmanager

import pyarrow.fs as pafs
import pytest

ENV = {
    "AWS_ACCESS_KEY_ID": "test",
    "AWS_SECRET_ACCESS_KEY": "test",
    "AWS_DEFAULT_REGION": "us-east-1",
    "AWS_EC2_METADATA_DISABLED": "true",
}


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@contextmanager
def moto_s3():
    """(port, a pyarrow S3FileSystem on the server); the server stops on exit."""
    server_mod = pytest.importorskip("moto.server", reason="moto[server] is a test dependency")
    port = free_port()
    server = server_mod.ThreadedMotoServer(ip_address="127.0.0.1", port=port)
    server.start()
    s3 = pafs.S3FileSystem(
        access_key=ENV["AWS_ACCESS_KEY_ID"],
        secret_key=ENV["AWS_SECRET_ACCESS_KEY"],
        endpoint_override=f"127.0.0.1:{port}",
        scheme="http",
        region=ENV["AWS_DEFAULT_REGION"],
        allow_bucket_creation=True,
    )
    try:
        yield port, s3
    finally:
        server.stop()
