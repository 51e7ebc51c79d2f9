"""Stem rule: keep the first k layers (graph order: input image, stem conv, ...) in fp32, the rest kiln fp16."""
import sys, torch
import torch.nn as nn
from sim import *
name = sys.argv[1]; ks = [int(k) for k in sys.argv[2].split(",")]
model, x = build(name)
sim = Sim(model)
with torch.no_grad(): ref = first(model(x))
info = flops_bytes(sim, x)
L = [n for n in sim.layers if n in info]
tm = sum(m for m, _ in info.values()); te = sum(e for _, e in info.values())
sim_w = sum(w.numel() for w, b in sim.orig_w.values())
for k in ks:
    keep = set(L[:k]); km = {n.target for n in keep if n.op == "call_module"}
    sim.set_weights(True, km)
    e = rel(sim.run(x, lambda n: n not in keep), ref)
    m = sum(info[n][0] for n in keep); el = sum(info[n][1] for n in keep)
    kw = sum(sim.orig_w[t][0].numel() for t in km if t in sim.orig_w)
    print("%s first %3d layers fp32 (up to %-32s) -> %.3e ; %.2f%% MACs, %.2f%% act elems, %.2f%% weights" %
          (name, k, L[k-1].name if k else "-", e, 100*m/tm, 100*el/te, 100*kw/sim_w), flush=True)
