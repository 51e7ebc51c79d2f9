"""kiln and PyTorch in one process, in a given import order, on a GPU host: loads a model on kiln's GPU
path, runs it from a CUDA tensor, then runs a PyTorch convolution, and prints which copy of each CUDA
library the process holds (python/kiln/_libraries.py, Note [CUDA libraries in one process]).

  PYTHONPATH=build/python python3 scripts/import_order.py kiln-first|torch-first MODEL_DIR

Exits 0 when both ran; the last line says what happened ("OK ..." or the failure)."""
import sys


def held_libraries():
    with open("/proc/self/maps") as f:
        paths = {line.split()[-1] for line in f if any(k in line for k in ("libcudnn.so", "libcublas", "libcudart"))}
    return sorted(paths)


def main():
    order, model = sys.argv[1], sys.argv[2]
    if order == "torch-first":
        import torch
        import kiln
    else:
        import kiln
        import torch
    for soname, path, why in kiln.library_report():
        print("bound %-20s %s (%s)" % (soname, path or "-", why))
    engine = kiln.load(model, device="gpu")
    x = torch.randn(*([1] + list(engine.inputs[0]["shape"][1:])), device="cuda")
    (y,) = engine.context().run(x).values()
    torch.cuda.synchronize()
    kiln_ok = bool(torch.isfinite(y).all())
    print("kiln:", engine.description, "output", tuple(y.shape), "finite" if kiln_ok else "NOT FINITE")
    try:
        z = torch.nn.functional.conv2d(x, torch.randn(4, x.shape[1], 3, 3, device="cuda"))
        torch.cuda.synchronize()
        torch_msg = "PyTorch %s convolution ran on cuDNN %s" % (torch.__version__, torch.backends.cudnn.version())
        torch_ok = bool(torch.isfinite(z).all())
    except RuntimeError as e:
        torch_msg, torch_ok = "PyTorch convolution failed: %s" % str(e).splitlines()[0], False
    for path in held_libraries():
        print("held", path)
    print(("OK " if kiln_ok and torch_ok else "FAILED ") + order + ": " + torch_msg)
    return 0 if kiln_ok and torch_ok else 1


if __name__ == "__main__":
    sys.exit(main())
