import numpy as np
from ippo import functions as F

class StandIn:
    task = "multiclass"
    def __init__(self, sizes, seed=0, dtype=np.float32):
        rng = np.random.default_rng(seed)
        self.params = []
        for a, b in zip(sizes[:-1], sizes[1:]):
            self.params += [(rng.standard_normal((a, b)) / np.sqrt(a)).astype(dtype), np.zeros(b, dtype)]
        self.grads = [np.zeros_like(p) for p in self.params]
        self.training = True
    def train(self): self.training = True
    def eval(self): self.training = False
    def _fwd(self, x):
        self.acts = [x]
        h = x
        n = len(self.params) // 2
        for i in range(n):
            h = h @ self.params[2*i] + self.params[2*i+1]
            if i < n - 1:
                h = F.sigmoid(h)
            self.acts.append(h)
        return h
    def scores(self, x): return self._fwd(x)
    def predict(self, x): return F.softmax(self._fwd(x))
    def loss(self, x, t):
        s = self._fwd(x)
        l, self.y = F.softmax_cross_entropy_forward(s, t)
        self.t = t
        return l
    def backward(self):
        d = F.softmax_cross_entropy_backward(self.y, self.t)
        n = len(self.params) // 2
        for i in reversed(range(n)):
            a = self.acts[i]
            np.dot(a.T, d, out=self.grads[2*i]); self.grads[2*i+1][...] = d.sum(0)
            if i > 0:
                d = F.sigmoid_backward(d @ self.params[2*i].T, self.acts[i])
    def accuracy(self, x, t):
        p = self._fwd(x).argmax(1)
        if t.ndim == 2: t = t.argmax(1)
        return float((p == t).mean())
    def state_dict(self): return {f"p{i}": p.copy() for i, p in enumerate(self.params)}
    def load_state_dict(self, d):
        for i, p in enumerate(self.params): p[...] = d[f"p{i}"]
