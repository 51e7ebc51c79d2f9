"""kiln_export: exports PyTorch models to kiln's model format (formats/README.md).

    from kiln_export import export
    export(model, torch.randn(1, 3, 224, 224), "out/resnet18")

See exporter/README.md for the supported ops and how layer and tensor names are formed.
"""
from .errors import ExportError, FormatError
from .export import ExportResult, export
from .reader import read_manifest, read_tensors
from .writer import write_tensors

__all__ = ["ExportError", "FormatError", "ExportResult", "export", "read_manifest", "read_tensors",
           "write_tensors"]
