"""Command line: python3 -m kiln_export --model MODULE:CALLABLE --input-shape 1,3,224,224 --out DIR."""
import argparse
import importlib
import importlib.util
import inspect
import os
import sys

import torch

from .errors import ExportError
from .dynamic import parse_range
from .export import export

DESCRIPTION = """\
Export a PyTorch model to a kiln model folder: model.yaml, weights.manifest + weights.bin, and golden/
with the example input and PyTorch's outputs (formats/README.md describes the files).

The model is built by calling MODULE:CALLABLE with no arguments; it must return a torch.nn.Module.
MODULE is an importable module name (kiln_export.zoo, torchvision.models) or a path to a .py file.
Random weights come from torch.manual_seed(--seed) before the call; --checkpoint loads a state_dict
(a plain one or a dict holding it under 'state_dict') with torch.load(weights_only=True), which never
runs code stored in the file. The example input is standard normal noise drawn with --seed.
"""

EPILOG = """\
examples:
  python3 -m kiln_export --model kiln_export.zoo:autoencoder --input-shape 1,3,512,512 --out /tmp/ae
  python3 -m kiln_export --model torchvision.models:resnet18 --checkpoint r18.pth \\
      --input-shape 1,3,224,224 --out /tmp/r18 --dtype f16 --golden-layers
  python3 -m kiln_export --model ./my_net.py:build --input-shape 4,3,64,64 --out /tmp/net
  python3 -m kiln_export --model kiln_export.zoo:unet --input-shape 1,3,64,64 --dynamic-hw 16x16:2048x2048 \\
      --out /tmp/unet   # any size from 16x16 to 2048x2048 at run time
"""


def _shape(text):
    try:
        dims = [int(d) for d in text.split(",")]
    except ValueError:
        raise argparse.ArgumentTypeError("expected comma-separated integers like 1,3,224,224, found '%s'" % text)
    if not 1 <= len(dims) <= 8 or min(dims) < 1:
        raise argparse.ArgumentTypeError("expected 1 to 8 dimensions, each >= 1, found '%s'" % text)
    return dims


def _hw_range(text):
    try:
        return parse_range(text)
    except ExportError as e:
        raise argparse.ArgumentTypeError(str(e).replace("--dynamic-hw: ", ""))


def parse_args(argv):
    p = argparse.ArgumentParser(prog="python3 -m kiln_export", description=DESCRIPTION, epilog=EPILOG,
                                formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--model", required=True, metavar="MODULE:CALLABLE",
                   help="module (or .py file) and callable returning the nn.Module, e.g. kiln_export.zoo:unet")
    p.add_argument("--checkpoint", metavar="FILE", help="state_dict to load (torch.save format, tensors only)")
    p.add_argument("--input-shape", required=True, type=_shape, action="append", metavar="N,C,H,W",
                   help="example input shape, batch first; repeat for a model with several inputs")
    p.add_argument("--out", required=True, metavar="DIR",
                   help="output folder; must be new, empty or a previous kiln export (which is replaced)")
    p.add_argument("--dtype", choices=("f32", "f16"), default="f32", help="weight precision (default f32)")
    p.add_argument("--golden-layers", action="store_true",
                   help="also write golden/layers.* with every layer's output (for finding where results diverge)")
    p.add_argument("--seed", type=int, default=0, help="seed for random weights and the example input (default 0)")
    p.add_argument("--name", help="model name written to model.yaml (default: the callable's name)")
    p.add_argument("--dynamic-hw", type=_hw_range, metavar="MIN_HxMIN_W:MAX_HxMAX_W",
                   help="let the 4-D inputs take any height x width in this range at run time, e.g. "
                        "16x16:2048x2048 (the example size must lie inside); the model is traced at a second "
                        "size too and refused if its graph depends on the size")
    return p.parse_args(argv)


def load_callable(spec):
    module_name, sep, attr = spec.rpartition(":")
    if not sep or not module_name or not attr:
        raise ExportError("--model must be MODULE:CALLABLE, found '%s'" % spec)
    if module_name.endswith(".py") or os.sep in module_name:
        path = os.path.abspath(module_name)
        if not os.path.isfile(path):
            raise ExportError("--model: file %s does not exist" % path)
        sys.path.insert(0, os.path.dirname(path))  # so the file can import its neighbours
        mod_spec = importlib.util.spec_from_file_location(os.path.splitext(os.path.basename(path))[0], path)
        module = importlib.util.module_from_spec(mod_spec)
        mod_spec.loader.exec_module(module)
    else:
        try:
            module = importlib.import_module(module_name)
        except ImportError as e:
            raise ExportError("--model: cannot import module '%s': %s" % (module_name, e)) from e
    obj = module
    for part in attr.split("."):
        if not hasattr(obj, part):
            raise ExportError("--model: '%s' has no attribute '%s'" % (module_name, attr))
        obj = getattr(obj, part)
    if not callable(obj):
        raise ExportError("--model: '%s' is not callable" % spec)
    return obj


def load_checkpoint(path):
    """A state_dict from `path`, loaded without running any code stored in the file."""
    if "weights_only" not in inspect.signature(torch.load).parameters:
        raise ExportError("this PyTorch (%s) has no torch.load(weights_only=True); kiln_export does not unpickle "
                          "checkpoints without it, as that can run arbitrary code. Use PyTorch >= 1.13"
                          % torch.__version__)
    try:
        data = torch.load(path, map_location="cpu", weights_only=True)
    except FileNotFoundError as e:
        raise ExportError("--checkpoint: %s does not exist" % path) from e
    except Exception as e:  # noqa: BLE001 - weights_only refusals come as several exception types
        raise ExportError("--checkpoint: %s could not be loaded as tensors only (weights_only=True): %s. "
                          "Save a state_dict (torch.save(model.state_dict(), ...)); kiln_export does not "
                          "unpickle arbitrary objects" % (path, e)) from e
    if isinstance(data, dict) and isinstance(data.get("state_dict"), dict):
        data = data["state_dict"]
    if not isinstance(data, dict) or not all(isinstance(v, torch.Tensor) for v in data.values()):
        raise ExportError("--checkpoint: %s holds %s, not a state_dict (a dict of tensors, or one under "
                          "'state_dict')" % (path, type(data).__name__))
    return data


def build_model(args):
    factory = load_callable(args.model)
    torch.manual_seed(args.seed)
    model = factory()
    if not isinstance(model, torch.nn.Module):
        raise ExportError("--model: %s returned %s, not a torch.nn.Module" % (args.model, type(model).__name__))
    if args.checkpoint:
        state = load_checkpoint(args.checkpoint)
        try:
            model.load_state_dict(state, strict=True)
        except RuntimeError as e:
            raise ExportError("--checkpoint: %s does not fit the model: %s" % (args.checkpoint, e)) from e
    return model


def main(argv=None):
    args = parse_args(sys.argv[1:] if argv is None else argv)
    try:
        model = build_model(args)
        generator = torch.Generator().manual_seed(args.seed)
        inputs = tuple(torch.randn(*shape, generator=generator) for shape in args.input_shape)
        name = args.name if args.name is not None else args.model.rpartition(":")[2]
        result = export(model, inputs if len(inputs) > 1 else inputs[0], args.out, weight_dtype=args.dtype,
                        golden_layers=args.golden_layers, name=name, dynamic_hw=args.dynamic_hw)
    except ExportError as e:
        print("kiln_export: error: %s" % e, file=sys.stderr)
        return 1
    print("kiln_export: wrote %s (%d layers; inputs %s; outputs %s)"
          % (result.out_dir, len(result.layers), ", ".join(result.inputs), ", ".join(result.outputs)))
    return 0
