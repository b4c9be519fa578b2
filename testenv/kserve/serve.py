"""Launch a real KServe ModelServer (PyPI `kserve`) bound to 127.0.0.1 only.

`kserve.ModelServer` hard-codes uvicorn's host to 0.0.0.0 and gRPC to [::]. This launcher keeps
KServe's own server code (FastAPI app, data plane, endpoints, exception handlers, signal
handling) and changes only where it listens:

* it binds one TCP socket to 127.0.0.1 itself (port 0 = the kernel picks a free port, so there
  is no race between choosing and binding a port) and hands that socket to KServe's uvicorn
  server, so uvicorn never binds a socket of its own;
* gRPC is disabled (`enable_grpc=False`), and constructing KServe's gRPC server is made an error;
* only one REST worker is allowed (KServe's multi-process REST server binds its own sockets).

The bound port is written to --port-file (atomically) as soon as the socket exists; readiness is
then `GET /v2/health/ready` == 200.

Usage: python serve.py --kind toy|sklearn [--name NAME] [--port N] [--port-file PATH]
"""

import argparse
import os
import socket
import sys

LOOPBACK = "127.0.0.1"


def parse_args():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--kind", choices=["toy", "sklearn"], required=True)
    parser.add_argument("--name", help="model name (default: toy / sklearn-iris)")
    parser.add_argument("--port", type=int, default=0, help="0 = any free port")
    parser.add_argument("--port-file", help="write the bound port to this file")
    return parser.parse_args()


def bind_loopback(port):
    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    sock.bind((LOOPBACK, port))
    sock.set_inheritable(True)
    return sock


def write_port_file(path, port):
    tmp = f"{path}.tmp.{os.getpid()}"
    with open(tmp, "w", encoding="utf-8") as handle:
        handle.write(f"{port}\n")
    os.replace(tmp, path)


def patch_kserve_to_loopback(sock):
    """Make KServe's ModelServer serve REST on `sock` only and refuse to start gRPC."""
    import kserve.model_server as model_server
    from kserve.protocol.rest.server import RESTServer

    for attr in ("RESTServer", "GRPCServer"):
        if not hasattr(model_server, attr):
            sys.exit(f"serve.py: kserve.model_server.{attr} not found: this kserve version is "
                     "not supported by the loopback launcher (see testenv/kserve/README.md)")
    if not hasattr(RESTServer, "create_application"):
        sys.exit("serve.py: RESTServer.create_application not found: unsupported kserve version")

    host, port = sock.getsockname()[:2]

    class LoopbackRESTServer(RESTServer):
        """KServe's RESTServer, serving on a socket bound to 127.0.0.1 by the launcher."""

        def __init__(self, *args, **kwargs):
            super().__init__(*args, **kwargs)
            # Keep uvicorn's config truthful (it is used in log lines), but uvicorn will not bind:
            # it serves on the socket passed to serve().
            self.config.host = host
            self.config.port = port

        async def start(self):
            self.create_application()
            await self._server.serve(sockets=[sock])

    def no_grpc(*_args, **_kwargs):
        raise RuntimeError("gRPC is disabled by testenv/kserve/serve.py (it would bind [::])")

    model_server.RESTServer = LoopbackRESTServer
    model_server.GRPCServer = no_grpc


def main():
    args = parse_args()
    # kserve.model_server parses sys.argv with its own parser at import time: give it none of ours.
    sys.argv = sys.argv[:1]

    sock = bind_loopback(args.port)
    port = sock.getsockname()[1]
    if args.port_file:
        write_port_file(args.port_file, port)
    print(f"serve.py: {args.kind} model server socket bound to {LOOPBACK}:{port}", flush=True)

    patch_kserve_to_loopback(sock)
    import kserve

    if args.kind == "toy":
        from toy_model import ToyModel

        model = ToyModel(args.name or "toy")
    else:
        from iris_model import IrisModel

        model = IrisModel(args.name or "sklearn-iris")

    server = kserve.ModelServer(http_port=port, enable_grpc=False, workers=1)
    server.start([model])


if __name__ == "__main__":
    main()
