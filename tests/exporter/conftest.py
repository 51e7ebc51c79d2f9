import os
import sys

import pytest
import torch

HERE = os.path.dirname(os.path.abspath(__file__))
EXPORTER = os.path.join(HERE, "..", "..", "exporter")
for path in (HERE, os.path.abspath(EXPORTER)):
    if path not in sys.path:
        sys.path.insert(0, path)

torch.set_num_threads(2)


def randomize_batchnorm(model, seed=0):
    """Gives every BatchNorm2d non-trivial running statistics and affine parameters, so folding is tested
    on more than the identity transform a fresh BatchNorm computes."""
    g = torch.Generator().manual_seed(seed)
    with torch.no_grad():
        for m in model.modules():
            if isinstance(m, torch.nn.BatchNorm2d):
                c = m.num_features
                m.running_mean.copy_(torch.randn(c, generator=g) * 0.5)
                m.running_var.copy_(torch.rand(c, generator=g) * 1.5 + 0.25)
                if m.affine:
                    m.weight.copy_(torch.rand(c, generator=g) + 0.5)
                    m.bias.copy_(torch.randn(c, generator=g) * 0.2)
    return model


@pytest.fixture
def randn():
    g = torch.Generator().manual_seed(1234)
    return lambda *shape: torch.randn(*shape, generator=g)
