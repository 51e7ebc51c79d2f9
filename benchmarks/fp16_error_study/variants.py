import sys, json, time, torch
import torch.nn as nn
from sim import *

name = sys.argv[1]
model, x = build(name)
sim = Sim(model)
with torch.no_grad():
    ref = first(model(x))
g = sim.gm.graph
L = sim.layers
kind = sim.kind
info = flops_bytes(sim, x)
tot_macs = sum(m for m, _ in info.values()); tot_elems = sum(e for _, e in info.values())
convs = [n for n in L if n.op == "call_module" and isinstance(sim.mods[n.target], (nn.Conv2d, nn.Linear))]
first_conv = convs[0]
last = convs[-1]  # classifier Linear (mobilenet/shufflenet) or the FCN head's final 1x1 conv
out_node = [n for n in g.nodes if n.op == "output"][0]
upsample = [n for n in L if kind[n] == "interpolate"]
head = [n for n in L if n.op == "call_module" and n.target.startswith("classifier")]  # fcn head / mobilenet classifier

def run(keep=(), round_w=True, round_a=True, only=None, only_w=None):
    """keep: layer nodes kept in fp32 (weights and output). only: set of nodes whose outputs alone are rounded."""
    keepmods = {n.target for n in keep if n.op == "call_module"}
    if only_w is not None:
        allw = set(sim.orig_w)
        keepmods = allw - {n.target for n in only_w if n.op == "call_module"}
    sim.set_weights(round_w, keepmods)
    if only is not None:
        pol = lambda n: n in only
    else:
        pol = lambda n: round_a and n not in keep
    return rel(sim.run(x, pol), ref)

def cost(nodes):
    m = sum(info.get(n, (0, 0))[0] for n in nodes); e = sum(info.get(n, (0, 0))[1] for n in nodes)
    return "%.2f%% MACs, %.2f%% act elems" % (100 * m / tot_macs, 100 * e / tot_elems)

res = {"model": name, "layers": len(L), "macs": tot_macs}
t = time.time()
V = [("full fp16 sim", {}),
     ("(a) weights half, acts fp32", dict(round_a=False)),
     ("(b) acts half, weights fp32", dict(round_w=False)),
     ("    acts half except input", dict(round_w=False, keep=[L[0]])),
     ("(c) keep input+first conv fp32", dict(keep=[L[0], first_conv])),
     ("(c) keep last conv/linear fp32 (%s)" % last.target, dict(keep=[last])),
     ("(c) keep depthwise convs fp32", dict(keep=[n for n in L if kind[n] == "conv_dw"])),
     ("(c) keep adds fp32", dict(keep=[n for n in L if kind[n] == "add"])),
     ("(c) keep cat+shuffle fp32", dict(keep=[n for n in L if kind[n] in ("cat", "channel_shuffle")])),
     ("(c) keep whole 'classifier' module fp32", dict(keep=head)),
     ("(c) keep head + upsample fp32", dict(keep=head + upsample)),
     ("(c) keep final upsample fp32", dict(keep=upsample)),
     ("(c) keep first conv + head + upsample fp32", dict(keep=[L[0], first_conv] + head + upsample)),
     ]
table = []
for label, kw in V:
    if not kw.get("keep", True) and "keep" in kw:
        continue
    e = run(**kw)
    c = cost(kw["keep"]) if kw.get("keep") else ""
    table.append((label, e, c)); print("%-50s %.4e  %s" % (label, e, c), flush=True)
res["variants"] = table

# error profile along depth (full fp16 sim vs fp32 sim) and magnitudes
def capture(pol, rw):
    sim.set_weights(rw)
    outs = {}
    class I(fx.Interpreter):
        def run_node(self, n):
            y = super().run_node(n)
            if n.op != "output" and torch.is_tensor(y) and y.is_floating_point() and pol(sim.owner[n]):
                y = H(y)
            if n in kind and torch.is_tensor(y): outs[n] = y
            return y
    with torch.no_grad(): I(sim.gm).run(x)
    return outs
A32 = capture(lambda n: False, False); A16 = capture(lambda n: True, True)
prof = [(n.name, kind[n], rel(A16[n], A32[n]), float(A32[n].abs().max()), float(A32[n].double().norm() / A32[n].numel() ** .5)) for n in A32]
res["profile"] = prof
print("profile (every ~6th layer): name kind relerr maxabs rms")
for i, p in enumerate(prof):
    if i % 6 == 0 or i >= len(prof) - 4: print("   %-40s %-18s %.3e %9.3g %9.3g" % p)

# conditioning of the last conv/linear: y = W a + b
m = sim.mods[last.target]; sim.set_weights(False)
a = A32[sim.owner[last.all_input_nodes[0]]].double(); W = m.weight.double(); b = m.bias.double()
if isinstance(m, nn.Linear):
    a = a.flatten(1); y = a @ W.t() + b; yabs = a.abs() @ W.abs().t() + b.abs()
else:
    W2 = W.flatten(1); A = a.flatten(2)[0]  # [C, HW]
    y = W2 @ A + b[:, None]; yabs = W2.abs() @ A.abs() + b.abs()[:, None]
kappa = float(yabs.norm() / y.norm())
ratio = float(y.norm() / (W.norm() * a.norm()))
# error of the last layer alone from rounding its input (acts) to half: relative error / unit roundoff
if isinstance(m, nn.Linear):
    yi = H(a).double() @ W.t() + b
else:
    yi = W2 @ H(a).double().flatten(2)[0] + b[:, None]
e_in = rel(yi, y); e_in0 = rel(H(a), a)
res["last"] = dict(kappa=kappa, ratio=ratio, amp=e_in / e_in0)
print("last layer %s: || |W||a|+|b| || / ||y|| = %.2f ; ||y||/(||W||_F ||a||) = %.3g ; rounding its input: in err %.2e -> out err %.2e (x%.2f)"
      % (last.target, kappa, ratio, e_in0, e_in, e_in / e_in0))
print("output: rms %.3g, mean %.3g, std %.3g" % (float(ref.pow(2).mean().sqrt()), float(ref.mean()), float(ref.std())))

# input-perturbation gain: random relative noise of half's rms rounding error
torch.manual_seed(1)
sim.set_weights(False)
for s in (2.8e-4, 1e-3):
    xp = x * (1 + s * torch.randn_like(x))
    print("input rel noise %.1e (measured %.2e) -> output rel %.3e (gain %.1f)" % (s, rel(xp, x), rel(sim.run(xp, lambda n: False), ref), rel(sim.run(xp, lambda n: False), ref) / rel(xp, x)))
print("fp32 vs fp64: %.2e" % rel(ref, first(copy.deepcopy(model).double()(x.double()))))

# per-layer sensitivity
single_a, single_l, loo = [], [], []
for n in L:
    if not torch.is_tensor(A32.get(n)): continue
    ea = run(round_w=False, only={n})
    el = run(only={n}, only_w=[n])  # only this layer in fp16 (its weights and output)
    single_a.append((ea, n.name, kind[n])); single_l.append((el, n.name, kind[n]))
res["single_act"] = single_a; res["single_layer"] = single_l
print("sum of squares of single-layer errors: acts %.3e , layer(w+act) %.3e  (full %.3e)" %
      (sum(e * e for e, *_ in single_a) ** .5, sum(e * e for e, *_ in single_l) ** .5, table[0][1]))
print("top 10 (only this layer's output rounded):")
for e, nm, k in sorted(single_a, reverse=True)[:10]: print("   %.3e %-40s %s" % (e, nm, k))
print("top 10 (only this layer in fp16: weights+output):")
for e, nm, k in sorted(single_l, reverse=True)[:10]: print("   %.3e %-40s %s" % (e, nm, k))

# greedy rule from single-layer errors: keep in fp32 the layers with largest e until predicted rss < 0.8e-2, then verify
byname = {n.name: n for n in L}
order = sorted(single_l, reverse=True)
tot2 = sum(e * e for e, *_ in order); kept = []
for e, nm, k in order:
    if tot2 ** .5 < 0.8e-2: break
    kept.append(byname[nm]); tot2 -= e * e
for target in (len(kept),):
    pass
ev = run(keep=kept)
print("greedy keep %d layers fp32 -> predicted %.2e, measured %.3e ; cost %s" % (len(kept), tot2 ** .5, ev, cost(kept)))
print("   kept:", [(n.name, kind[n]) for n in kept][:40])
res["greedy"] = dict(n=len(kept), measured=ev, cost=cost(kept), kept=[n.name for n in kept])
# also: how many layers needed in fp32 (top-k by single-layer error), measured
for k in (1, 2, 3, 5, 10, 20, 40):
    if k > len(order): break
    ks = [byname[nm] for _, nm, _ in order[:k]]
    print("   top-%d layers fp32 -> %.3e (%s)" % (k, run(keep=ks), cost(ks)), flush=True)
json.dump(res, open("%s.fp16_study.json" % name, "w"), indent=1, default=str)  # in the current folder
print("time %.0fs" % (time.time() - t))
