"""Lowering of torch.nn leaf modules to kiln ops. Keyed by exact type: a subclass may change forward()."""
from collections import OrderedDict

import torch
from torch import nn

from . import ops_common as c
from . import ops_channels_last, ops_pool


def _conv_padding(cx, node, m):
    if m.padding_mode != "zeros":
        raise cx.error(node, "padding_mode='%s' is not supported (only 'zeros')" % m.padding_mode)
    if m.padding == "valid":
        return [0, 0]
    if m.padding == "same":
        total = [d * (k - 1) for d, k in zip(m.dilation, m.kernel_size)]
        c.require(cx, node, all(t % 2 == 0 for t in total),
                  "padding='same' with kernel %s and dilation %s pads one side more than the other, which kiln's "
                  "conv2d cannot express" % (list(m.kernel_size), list(m.dilation)))
        return [t // 2 for t in total]
    return c.pair(cx, node, m.padding, "padding")


def _conv_attrs(cx, node, m, padding):
    attrs = OrderedDict([("out_channels", m.out_channels), ("kernel_size", list(m.kernel_size))])
    c.put_pair(attrs, "stride", list(m.stride), 1)
    c.put_pair(attrs, "padding", padding, 0)
    return attrs


def conv2d(cx, node, m):
    x = c.module_input(cx, node)
    c.need_rank(cx, node, x, (4,), "conv2d")
    attrs = _conv_attrs(cx, node, m, _conv_padding(cx, node, m))
    c.put_pair(attrs, "dilation", list(m.dilation), 1)
    if m.groups != 1:
        attrs["groups"] = m.groups
    cx.emit(node, "conv2d", [x], attrs, OrderedDict([("weight", m.weight), ("bias", m.bias)]))


def conv_transpose2d(cx, node, m):
    if len(node.args) > 1 or node.kwargs:
        raise cx.error(node, "output_size= is not supported; set output_padding on the module instead")
    x = c.module_input(cx, node)
    c.need_rank(cx, node, x, (4,), "conv_transpose2d")
    attrs = _conv_attrs(cx, node, m, _conv_padding(cx, node, m))
    c.put_pair(attrs, "output_padding", list(m.output_padding), 0)
    c.put_pair(attrs, "dilation", list(m.dilation), 1)
    if m.groups != 1:
        attrs["groups"] = m.groups
    cx.emit(node, "conv_transpose2d", [x], attrs, OrderedDict([("weight", m.weight), ("bias", m.bias)]))


def bn_scale_shift(m):
    """Inference-form BatchNorm as float64 (scale, shift): y = x * scale[c] + shift[c]."""
    var, mean = m.running_var.detach().double(), m.running_mean.detach().double()
    scale = torch.rsqrt(var + m.eps)
    shift = -mean * scale
    if m.weight is not None:
        scale = scale * m.weight.detach().double()
        shift = shift * m.weight.detach().double()
    if m.bias is not None:
        shift = shift + m.bias.detach().double()
    return scale, shift


def fold_bn(layer, scale, shift):
    """Folds y = conv(x) * scale + shift into `layer`'s weight and bias (see README, "BatchNorm folding")."""
    w = layer.weights["weight"].detach().double()
    groups = layer.attributes.get("groups", 1)
    if layer.op == "conv2d":  # weight [out, in/g, kh, kw]
        w = w * scale.view(-1, 1, 1, 1)
    else:  # conv_transpose2d weight [in, out/g, kh, kw]: output channel g*(out/g)+j lives at [group g rows, j]
        cin, cout_g = w.shape[0], w.shape[1]
        w = (w.view(groups, cin // groups, cout_g, *w.shape[2:]) * scale.view(groups, 1, cout_g, 1, 1)).view(w.shape)
    bias = layer.weights.get("bias")
    bias = shift if bias is None else bias.detach().double() * scale + shift
    layer.weights["weight"] = w.float()
    layer.weights["bias"] = bias.float()


def batch_norm2d(cx, node, m):
    x = c.module_input(cx, node)
    c.need_rank(cx, node, x, (4,), "batch_norm")
    if m.running_mean is None or m.running_var is None:
        raise cx.error(node, "track_running_stats=False uses each batch's statistics at inference; kiln needs "
                             "running statistics")
    scale, shift = bn_scale_shift(m)
    producer = cx.sole_producer(node, x, ("conv2d", "conv_transpose2d"))
    if producer is not None:
        fold_bn(producer, scale, shift)
        producer.value_node = node  # the folded conv now computes the BatchNorm's output
        cx.alias(node, x)
    else:
        cx.emit(node, "batch_norm", [x], None, OrderedDict([("scale", scale.float()), ("shift", shift.float())]))


def linear(cx, node, m):
    x = c.module_input(cx, node)
    lower = ops_channels_last.linear if ops_channels_last.is_view(cx, x) else c.linear  # on the last dim
    lower(cx, node, x, m.weight, m.bias)


def _softmax2d(cx, node, m):
    x = c.module_input(cx, node)
    c.require(cx, node, len(cx.shape(x)) == 4, "Softmax2d needs a 4-D input")
    c.softmax(cx, node, x, 1)


def _plain_activation(op):
    """An activation module without attributes but `inplace` (which some torch versions lack)."""
    return lambda cx, n, m: c.unary(cx, n, op, c.module_input(cx, n), inplace=getattr(m, "inplace", False))


def _identity(cx, node, m):
    cx.alias(node, c.module_input(cx, node))


_HANDLERS = {
    "Conv2d": conv2d,
    "ConvTranspose2d": conv_transpose2d,
    "BatchNorm2d": batch_norm2d,
    "Linear": linear,
    "LayerNorm": ops_channels_last.layer_norm_module,  # a view's last dim or [N, C] (Note [channels-last views])
    "ReLU": lambda cx, n, m: c.unary(cx, n, "relu", c.module_input(cx, n), inplace=m.inplace),
    "LeakyReLU": lambda cx, n, m: c.unary(cx, n, "leaky_relu", c.module_input(cx, n),
                                          {"negative_slope": float(m.negative_slope)}, m.inplace),
    "ELU": lambda cx, n, m: c.unary(cx, n, "elu", c.module_input(cx, n), {"alpha": float(m.alpha)}, m.inplace),
    "Sigmoid": lambda cx, n, m: c.unary(cx, n, "sigmoid", c.module_input(cx, n)),
    "Tanh": lambda cx, n, m: c.unary(cx, n, "tanh", c.module_input(cx, n)),
    "ReLU6": lambda cx, n, m: c.hardtanh(cx, n, c.module_input(cx, n), 0.0, 6.0, m.inplace),
    "Hardtanh": lambda cx, n, m: c.hardtanh(cx, n, c.module_input(cx, n), m.min_val, m.max_val, m.inplace),
    "Hardswish": _plain_activation("hardswish"),
    "Hardsigmoid": _plain_activation("hardsigmoid"),
    "SiLU": _plain_activation("silu"),
    "Mish": _plain_activation("mish"),
    "GELU": lambda cx, n, m: c.gelu(cx, n, c.module_input(cx, n), getattr(m, "approximate", "none")),
    "Softplus": lambda cx, n, m: c.softplus(cx, n, c.module_input(cx, n), m.beta, m.threshold),
    "PReLU": lambda cx, n, m: c.prelu(cx, n, c.module_input(cx, n), m.weight),
    "Flatten": lambda cx, n, m: c.reshape(cx, n, c.module_input(cx, n)),
    "LocalResponseNorm": lambda cx, n, m: c.lrn(cx, n, c.module_input(cx, n), m.size, m.alpha, m.beta, m.k),
    "Softmax": lambda cx, n, m: c.softmax(cx, n, c.module_input(cx, n), m.dim),
    "Softmax2d": _softmax2d,
    "Identity": _identity,
    "Dropout": _identity,  # the model is in eval(): dropout passes its input through
    "Dropout1d": _identity,
    "Dropout2d": _identity,
    "Dropout3d": _identity,
    "AlphaDropout": _identity,
    "FeatureAlphaDropout": _identity,
}

_HANDLERS.update(ops_pool.MODULES)  # op families with their own lowering file

# Exact types present in this torch version (Dropout1d is newer than some supported versions).
MODULE_HANDLERS = {getattr(nn, k): v for k, v in _HANDLERS.items() if hasattr(nn, k)}


def supported_module_names():
    return sorted(t.__name__ for t in MODULE_HANDLERS)
