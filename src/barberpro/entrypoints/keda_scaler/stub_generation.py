"""Regenerates the committed gRPC modules from `externalscaler.proto`.

The generated modules are committed so that nothing is generated or fetched
when BarberPro runs; grpcio-tools is therefore only a development dependency.
Run from anywhere: ``python -m barberpro.entrypoints.keda_scaler.stub_generation``.
"""

from __future__ import annotations

from pathlib import Path

PACKAGE_DIR = Path(__file__).resolve().parent
PROTO_NAME = "externalscaler.proto"
GENERATED_NAMES = ("externalscaler_pb2.py", "externalscaler_pb2.pyi", "externalscaler_pb2_grpc.py")

# The proto is compiled relative to the `src/` root so that the generated gRPC
# module imports its message module by its full package path.
_SOURCE_ROOT = PACKAGE_DIR.parents[2]
_PROTO_RELATIVE = PACKAGE_DIR.relative_to(_SOURCE_ROOT) / PROTO_NAME


def generate(out_root: Path) -> list[Path]:
    """Writes the generated modules under `out_root` (mirroring `src/`) and returns their paths."""
    from grpc_tools import protoc  # dev-only dependency: imported on demand

    out_root.mkdir(parents=True, exist_ok=True)
    args = [
        "grpc_tools.protoc",
        f"-I{_SOURCE_ROOT}",
        f"--python_out={out_root}",
        f"--pyi_out={out_root}",
        f"--grpc_python_out={out_root}",
        str(_PROTO_RELATIVE),
    ]
    if protoc.main(args) != 0:
        raise RuntimeError(f"protoc failed on {_PROTO_RELATIVE}")
    return [out_root / _PROTO_RELATIVE.parent / name for name in GENERATED_NAMES]


def main() -> None:
    for path in generate(_SOURCE_ROOT):
        print(path)


if __name__ == "__main__":
    main()
