"""Which CUDA libraries kiln's extension binds to when PyTorch's pip wheels are in the environment.

Note [CUDA libraries in one process]: a process holds one copy of each library per soname
(libcudart.so.13, libcublasLt.so.13, libcublas.so.13, libcudnn.so.9) when it is found by name, but a
second copy when another one is opened by its full path. PyTorch's pip wheels bring their own copies
(site-packages/nvidia/.../lib) and PyTorch checks at its first convolution that the cuDNN it finds is at
least the one it was built with. Measured on the H200 host (PyTorch 2.11 with cuDNN 9.19 in its wheels,
kiln built against the system's cuDNN 9.14):
  - torch first, then kiln: kiln binds to PyTorch's copies (promoted to global below) and both run;
  - kiln first, without this module: kiln's 9.14 is in the process, and PyTorch's first convolution
    raises "cuDNN version incompatibility: PyTorch was compiled against 9.19 but found 9.14".
So when torch is not imported yet, kiln opens the wheels' libraries itself, by the full paths PyTorch
will open, before its extension: kiln and PyTorch then share one copy of each, in either order. A
wheel's library is taken only when its package's version is not older than the one kiln was built
against (cuDNN keeps backward compatibility within a major version, not forward). KILN_USE_SYSTEM_CUDA=1
turns this off. Returns what it did, for kiln.library_report().
"""
import ctypes
import importlib.metadata
import importlib.util
import os
import re
import sys

# soname -> (distribution name patterns, the version kiln was built with, a glob below the nvidia
# namespace package); filled by kiln/__init__.py from _build_info.
_RTLD = os.RTLD_GLOBAL | os.RTLD_NOW


def _version_tuple(text):
    return tuple(int(p) for p in re.findall(r"\d+", text or "")[:3])


def _nvidia_roots():
    """The directories of the `nvidia` namespace package (where PyTorch's CUDA wheels install)."""
    try:
        spec = importlib.util.find_spec("nvidia")
    except (ImportError, ValueError):
        return []
    if spec is None or spec.submodule_search_locations is None:
        return []
    return [p for p in spec.submodule_search_locations if os.path.isdir(p)]


def _wheel_version(prefixes):
    """The version of the first installed distribution whose name starts with one of `prefixes`."""
    for dist in importlib.metadata.distributions():
        name = (dist.metadata.get("Name") or "").lower()
        if any(name.startswith(p) for p in prefixes):
            return dist.version
    return None


def find_wheel_library(soname, roots):
    """The first <root>/<package>/lib/<soname> (PyTorch's wheels: nvidia/cudnn/lib, nvidia/cu13/lib,
    nvidia/cuda_runtime/lib, ...), or None."""
    for root in roots:
        for package in sorted(os.listdir(root)):
            path = os.path.join(root, package, "lib", soname)
            if os.path.isfile(path):
                return path
    return None


def plan(wanted, roots, wheel_version):
    """[(soname, path or None, why)] for `wanted` = [(soname, distribution prefixes, built version)]:
    the path of the wheel library to open first, or None and the reason it is not taken."""
    out = []
    for soname, prefixes, built in wanted:
        path = find_wheel_library(soname, roots)
        if path is None:
            out.append((soname, None, "no wheel copy"))
            continue
        have = wheel_version(prefixes)
        if have is not None and _version_tuple(have) < _version_tuple(built):
            out.append((soname, None, "wheel %s is older than kiln's build (%s)" % (have, built)))
            continue
        out.append((soname, path, "wheel %s" % (have or "of unknown version")))
    return out


def bind_before_extension(wanted):
    """Opens the libraries kiln's extension should share with PyTorch, globally; returns the plan."""
    if os.environ.get("KILN_USE_SYSTEM_CUDA") == "1":
        return [(s, None, "KILN_USE_SYSTEM_CUDA=1") for s, _, _ in wanted]
    if "torch" in sys.modules:
        # PyTorch loaded its copies privately: make them global so the extension's names bind to them.
        report = []
        for soname, _, _ in wanted:
            try:
                ctypes.CDLL(soname, mode=_RTLD)
                report.append((soname, soname, "already in the process (torch)"))
            except OSError:
                report.append((soname, None, "not in the process"))
        return report
    report = plan(wanted, _nvidia_roots(), _wheel_version)
    for i, (soname, path, why) in enumerate(report):
        if path is None:
            continue
        try:
            ctypes.CDLL(path, mode=_RTLD)
        except OSError as e:
            report[i] = (soname, None, "could not open %s: %s" % (path, e))
    return report
