"""Same models, other random inputs (seeds 1..4 for x): full fp16 sim and stem rules, to see the spread."""
import sys, torch
from sim import *
name = sys.argv[1]; ks = [int(k) for k in sys.argv[2].split(",")]
model, x0 = build(name)
sim = Sim(model)
L = sim.layers
for s in (0, 1, 2, 3, 4):
    x = x0 if s == 0 else torch.Generator().manual_seed(s) and torch.randn(x0.shape, generator=torch.Generator().manual_seed(s))
    with torch.no_grad(): ref = first(model(x))
    row = []
    for k in [0] + ks:
        keep = set(L[:k]); sim.set_weights(True, {n.target for n in keep if n.op == "call_module"})
        row.append(rel(sim.run(x, lambda n: n not in keep), ref))
    print(name, "input seed", s, " ".join("k=%d:%.2e" % (k, e) for k, e in zip([0] + ks, row)), flush=True)
