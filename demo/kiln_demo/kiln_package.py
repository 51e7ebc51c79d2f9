"""Finds and imports kiln's Python package for the demo. Free of PyTorch on purpose: __main__ imports kiln
through it before anything imports torch (python/kiln/__init__.py, Note [CUDA libraries in one process])."""
import importlib
import os
import sys

REPO = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
_imported = None  # (module, folder) once found


def import_kiln(explicit):
    """kiln's Python package: from the build folder `explicit` (or the folder of the kiln executable
    given), else an installed `kiln`, else $KILN_BIN's build folder, else the newest of the repo's build
    and build-* folders. Returns (module, where it came from). Raises RuntimeError saying how to build
    it when none is found."""
    global _imported
    if _imported is not None:
        return _imported

    def package_in(folder):
        return os.path.isfile(os.path.join(folder, "python", "kiln", "__init__.py"))

    def from_build(folder):
        sys.path.insert(0, os.path.join(folder, "python"))
        sys.modules.pop("kiln", None)
        module = importlib.import_module("kiln")
        return module, os.path.dirname(module.__file__)

    _imported = _find(explicit, package_in, from_build)
    return _imported


def _find(explicit, package_in, from_build):
    if explicit:
        folder = os.path.dirname(os.path.abspath(explicit)) if os.path.isfile(explicit) else os.path.abspath(explicit)
        if not package_in(folder):
            raise RuntimeError("--kiln %s: no kiln Python package in %s/python (build the target kiln_python)"
                               % (explicit, folder))
        return from_build(folder)
    try:
        module = importlib.import_module("kiln")
        return module, os.path.dirname(module.__file__)
    except ImportError:
        pass
    if os.environ.get("KILN_BIN") and package_in(os.path.dirname(os.path.abspath(os.environ["KILN_BIN"]))):
        return from_build(os.path.dirname(os.path.abspath(os.environ["KILN_BIN"])))
    builds = [os.path.join(REPO, d) for d in sorted(os.listdir(REPO))
              if d == "build" or d.startswith("build-")] if os.path.isdir(REPO) else []
    builds = [b for b in builds if package_in(b)]
    if builds:
        return from_build(max(builds, key=lambda b: os.path.getmtime(os.path.join(b, "python", "kiln"))))
    raise RuntimeError("no kiln Python package found: build it (cmake -S . -B build && cmake --build build), "
                       "pip install build/python, or pass --kiln BUILD_DIR")
