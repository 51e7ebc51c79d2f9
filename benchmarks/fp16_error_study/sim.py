"""CPU simulation of kiln's fp16 (benchmarks/NOTES.md, 2026-12-07: where the fp16 error of torchvision's
random-weight models comes from): BatchNorm folded into the convolution before it (float64, stored float32),
folded weights and biases rounded to half, every layer computed in float32 and its output rounded to half,
as kiln's fp16 engine does. Run with Debian's /usr/bin/python3 (torch 1.13 on the CPU), from this folder:

    /usr/bin/python3 variants.py mobilenet_v2        # variants, per-layer sensitivity, conditioning
    /usr/bin/python3 prefix.py fcn_resnet50 2,6,33   # the first k layers kept in float32
    /usr/bin/python3 robust.py shufflenet_v2_x1_0 3,6  # the same over other random inputs
"""
import copy, operator, sys, time
import torch, torch.fx as fx
import torch.nn as nn
import torch.nn.functional as F
import os
sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "..", "exporter"))
from kiln_export import zoo

torch.set_num_threads(2)
H = lambda t: t.half().float()

def build(name, shape=(1, 3, 224, 224)):
    torch.manual_seed(0)
    model = zoo.TORCHVISION[name]()
    x = torch.randn(*shape)
    zoo.calibrate_batchnorm(model, torch.randn(max(2, shape[0]), *shape[1:]))
    model.eval()
    return model, x

def first(y):
    return next(iter(y.values())) if isinstance(y, dict) else y

def fold(model):
    """fx-traced copy with every BatchNorm after a conv folded into it (float64, stored float32 like kiln)."""
    import torchvision.models.shufflenetv2 as sv2
    root = copy.deepcopy(model)
    def fwd(self, x):  # InvertedResidual.forward without tuple-unpacking a proxy (same values)
        if self.stride == 1:
            n = self.branch2[0].in_channels
            out = torch.cat((x[:, :n], self.branch2(x[:, n:])), dim=1)
        else:
            out = torch.cat((self.branch1(x), self.branch2(x)), dim=1)
        return sv2.channel_shuffle(out, 2)
    sv2.InvertedResidual.forward = fwd
    tracer = fx.Tracer(autowrap_functions=(sv2.channel_shuffle,))
    gm = fx.GraphModule(root, tracer.trace(root))
    mods = dict(gm.named_modules())
    for n in list(gm.graph.nodes):
        if n.op == "call_module" and isinstance(mods[n.target], nn.BatchNorm2d):
            p = n.args[0]
            if p.op == "call_module" and isinstance(mods[p.target], nn.Conv2d) and len(p.users) == 1:
                bn, conv = mods[n.target], mods[p.target]
                scale = torch.rsqrt(bn.running_var.double() + bn.eps) * bn.weight.double()
                shift = bn.bias.double() - bn.running_mean.double() * scale
                w = conv.weight.double() * scale.view(-1, 1, 1, 1)
                b = shift if conv.bias is None else conv.bias.double() * scale + shift
                conv.weight = nn.Parameter(w.float())
                conv.bias = nn.Parameter(b.float())
                n.replace_all_uses_with(p)
                gm.graph.erase_node(n)
            else:
                raise RuntimeError("unfolded BN %s" % n.target)
    gm.graph.lint(); gm.recompile()
    return gm

# ops whose output precision follows their producer (fused activations, views, no-ops)
PASS_MOD = (nn.ReLU, nn.ReLU6, nn.Hardtanh, nn.Dropout, nn.Identity, nn.Flatten)
PASS_FN = {F.relu, torch.relu, torch.flatten, torch.transpose, operator.getitem, F.dropout, F.relu6}
PASS_METH = {"view", "reshape", "flatten", "transpose", "contiguous", "relu", "relu_", "chunk", "size"}

class Sim:
    """Layers of a folded graph, with a kind each, and a runner taking a rounding policy."""
    def __init__(self, model):
        self.gm = fold(model)
        self.mods = dict(self.gm.named_modules())
        self.owner, self.kind, self.layers = {}, {}, []
        for n in self.gm.graph.nodes:
            passthrough = ((n.op == "call_module" and isinstance(self.mods[n.target], PASS_MOD)) or
                           (n.op == "call_function" and n.target in PASS_FN) or
                           (n.op == "call_method" and n.target in PASS_METH))
            tin = [a for a in n.all_input_nodes]
            if passthrough and tin:
                self.owner[n] = self.owner.get(tin[0], tin[0])
            else:
                self.owner[n] = n
                if n.op != "output":
                    self.layers.append(n)
                    self.kind[n] = self._kind(n)
        self.orig_w = {}
        for name, m in self.gm.named_modules():
            if isinstance(m, (nn.Conv2d, nn.Linear)):
                self.orig_w[name] = (m.weight.data.clone(), None if m.bias is None else m.bias.data.clone())

    def _kind(self, n):
        if n.op == "placeholder": return "input"
        if n.op == "call_module":
            m = self.mods[n.target]
            if isinstance(m, nn.Conv2d):
                if m.groups > 1 and m.groups == m.in_channels: return "conv_dw"
                return "conv%dx%d" % m.kernel_size
            return type(m).__name__
        if n.op == "call_function": return getattr(n.target, "__name__", str(n.target))
        return str(n.target)

    def set_weights(self, round_w, keep=()):
        """round_w: round folded weights+biases of every conv/linear, except the module names in keep."""
        for name, (w, b) in self.orig_w.items():
            m = self.mods[name]
            r = round_w and name not in keep
            m.weight.data = H(w) if r else w.clone()
            if b is not None:
                m.bias.data = H(b) if r else b.clone()

    def run(self, x, round_act):
        """round_act(node) -> bool for each layer node: round its output (and its fused/passthrough users)."""
        sim = self
        class I(fx.Interpreter):
            def run_node(self, n):
                y = super().run_node(n)
                if n.op != "output" and torch.is_tensor(y) and y.is_floating_point() and round_act(sim.owner[n]):
                    y = H(y)
                return y
        with torch.no_grad():
            return first(I(self.gm).run(x))

def rel(a, b):
    a, b = a.double(), b.double()
    return float((a - b).norm() / b.norm())

def flops_bytes(sim, x):
    """Per layer node: MACs (conv/linear), output elements."""
    info = {}
    class I(fx.Interpreter):
        def run_node(self, n):
            y = super().run_node(n)
            macs = 0
            if n.op == "call_module":
                m = sim.mods[n.target]
                if isinstance(m, nn.Conv2d):
                    macs = y.numel() * m.in_channels // m.groups * m.kernel_size[0] * m.kernel_size[1]
                elif isinstance(m, nn.Linear):
                    macs = y.numel() * m.in_features
            if torch.is_tensor(y) and n in sim.kind:
                info[n] = (macs, y.numel())
            return y
    with torch.no_grad():
        I(sim.gm).run(x)
    return info
