"""Ablation for the shipped classic: PCA size per feature and which features, MLP(1024, alpha 0.1), PublicTest."""
import time, numpy as np
from blocks import block, y, yv
from sklearn.neural_network import MLPClassifier
cache = {}
def get(name, how, k):
    if (name, k) not in cache:
        cache[name, k] = block(name, how, k)
    return cache[name, k]
HOW = {"hog": "none", "lbp": "sqrt", "sift-fisher": "none", "landmarks": "none", "sift-bow": "sqrt"}
variants = [
    [("hog", 250), ("lbp", 250), ("sift-fisher", 250), ("landmarks", 170)],
    [("hog", 250), ("lbp", 250), ("landmarks", 170)],
    [("hog", 150), ("lbp", 150), ("sift-fisher", 300), ("landmarks", 170)],
    [("hog", 500), ("lbp", 500), ("landmarks", 170)],
]
for v in variants:
    blocks = [get(n, HOW[n], k) for n, k in v]
    Z = {s: np.hstack([b[s] for b in blocks]) for s in ("train", "PublicTest", "PublicTest_m")}
    t = time.time()
    m = MLPClassifier((1024,), alpha=0.1, early_stopping=True, max_iter=60, random_state=0).fit(Z["train"], y)
    p = m.predict_proba(Z["PublicTest"]) + m.predict_proba(Z["PublicTest_m"])
    print(f"{'+'.join(f'{n}:{k}' for n, k in v)} dims={Z['train'].shape[1]}: public {(p.argmax(1) == yv).mean():.4f} "
          f"({time.time() - t:.0f}s, {m.n_iter_} iters)", flush=True)
