"""How kiln binds its CUDA libraries next to PyTorch's pip wheels (python/kiln/_libraries.py, Note [CUDA
libraries in one process]): which wheel copy is taken, when one is refused, and the opt-out. Runs on any
machine: the wheel tree is a fake one in a temporary folder."""
import kiln
from kiln import _build_info, _libraries

WANTED = [("libcudart.so.13", ("nvidia-cuda-runtime",), "13.0.88"),
          ("libcudnn.so.9", ("nvidia-cudnn",), "9.14.0")]


def _tree(tmp_path, files):
    root = tmp_path / "nvidia"
    for rel in files:
        path = root / rel
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_bytes(b"")
    return [str(root)]


def test_wheel_copies_not_older_than_the_build_are_taken(tmp_path):
    roots = _tree(tmp_path, ["cu13/lib/libcudart.so.13", "cudnn/lib/libcudnn.so.9", "cudnn/include/cudnn.h"])
    versions = {"nvidia-cuda-runtime": "13.0.96", "nvidia-cudnn": "9.19.0.56"}
    plan = _libraries.plan(WANTED, roots, lambda prefixes: versions.get(prefixes[0]))
    assert [(s, p) for s, p, _ in plan] == [("libcudart.so.13", roots[0] + "/cu13/lib/libcudart.so.13"),
                                           ("libcudnn.so.9", roots[0] + "/cudnn/lib/libcudnn.so.9")]
    assert "9.19.0.56" in plan[1][2]


def test_an_older_wheel_is_refused_and_says_why(tmp_path):
    roots = _tree(tmp_path, ["cudnn/lib/libcudnn.so.9"])
    plan = _libraries.plan(WANTED, roots, lambda prefixes: "9.10.2" if prefixes[0] == "nvidia-cudnn" else None)
    assert plan[0] == ("libcudart.so.13", None, "no wheel copy")
    soname, path, why = plan[1]
    assert soname == "libcudnn.so.9" and path is None
    assert "9.10.2" in why and "older" in why and "9.14.0" in why


def test_a_wheel_of_unknown_version_is_taken(tmp_path):
    roots = _tree(tmp_path, ["cuda_runtime/lib/libcudart.so.13"])
    plan = _libraries.plan(WANTED[:1], roots, lambda prefixes: None)
    assert plan[0][1].endswith("cuda_runtime/lib/libcudart.so.13") and "unknown" in plan[0][2]


def test_system_libraries_can_be_forced(monkeypatch):
    monkeypatch.setenv("KILN_USE_SYSTEM_CUDA", "1")
    report = _libraries.bind_before_extension(WANTED)
    assert report == [(s, None, "KILN_USE_SYSTEM_CUDA=1") for s, _, _ in WANTED]


def test_the_import_reports_each_library_of_the_build():
    report = kiln.library_report()
    assert [s for s, _, _ in report] == ["libcudart.so.%s" % _build_info.CUDA_MAJOR,
                                         "libcublasLt.so.%s" % _build_info.CUDA_MAJOR,
                                         "libcublas.so.%s" % _build_info.CUDA_MAJOR,
                                         "libcudnn.so.%s" % _build_info.CUDNN_MAJOR]
    assert all(why for _, _, why in report)
    assert _build_info.CUDNN_VERSION == kiln.built_with_cudnn
