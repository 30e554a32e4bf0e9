"""MDR training-step A/B: the DIN forward as it was (a broadcast einsum over (b, L, H, d)) against the package's
(W folded into the candidates, one batched product), alternating in one process with the same seed and batches on toys.

    python benchmarks/mdr_step.py 1    # torch threads; prints both step times and the ratio
"""
import os, sys, torch, torch.nn.functional as F
from addrl_nb.run.experiments import experiment_dataset
from _steps import step_seconds
from addrl_nb.models.mdr import DINPredictor
new = DINPredictor.forward
def old(self, cand, hist, mask):
    Ai, Ak, Ad, Am = self._parts(self.att_in.weight, 4); Pu, Pi, Pm = self._parts(self.pred_in.weight, 3)
    W = torch.cat([Am, Pm]); hw = hist.unsqueeze(2) * W
    bil = torch.einsum("blhd,cd->bclh", hw, cand) if cand.dim() == 2 else torch.einsum("blhd,bcd->bclh", hw, cand)
    cb = cand if cand.dim() == 3 else cand.unsqueeze(0)
    za = bil[..., :self.Ha] + (cb @ (Ai + Ad).T).unsqueeze(2) + (hist @ (Ak - Ad).T).unsqueeze(1) + self.att_in.bias
    a = (F.relu(za) @ self.att_out.weight.T).squeeze(-1) + self.att_out.bias
    a = a.masked_fill(~mask, -torch.inf); w = torch.nan_to_num(a.softmax(-1))
    zp = ((w.unsqueeze(-1) * (bil[..., self.Ha:] + (hist @ Pu.T).unsqueeze(1))).sum(2) + cb @ Pi.T + self.pred_in.bias)
    return (F.relu(zp) @ self.pred_out.weight.T).squeeze(-1) + self.pred_out.bias, w
torch.set_num_threads(int(sys.argv[1]) if len(sys.argv) > 1 else 1)
ds = experiment_dataset("toys", os.environ.get("ADDRL_DATA_DIR"))
def steps(fwd):
    DINPredictor.forward = fwd
    return step_seconds(ds, "mdr")
ta, tb = [], []
for r in range(3): ta.append(steps(old)); tb.append(steps(new))
print(f"threads {torch.get_num_threads()}, load {os.getloadavg()[0]:.2f}: before {min(ta)*1000:.0f} ms, after {min(tb)*1000:.0f} ms a step "
      f"(min of 3 x 10 steps), x{min(ta)/min(tb):.2f}")
