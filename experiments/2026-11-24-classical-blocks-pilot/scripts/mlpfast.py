"""MLP speed: larger batches and shorter patience, on the classic's features (PCA 500 each), PublicTest."""
from workdir import WORKDIR
import time, numpy as np
from blocks import y, yv
from sklearn.neural_network import MLPClassifier
Z = np.load(f"{WORKDIR}/combo.npz")
for kw in ({"batch_size": 512, "learning_rate_init": 2e-3, "n_iter_no_change": 5},
           {"batch_size": 200, "n_iter_no_change": 5}):
    t = time.time()
    m = MLPClassifier((1024,), alpha=0.1, early_stopping=True, max_iter=60, random_state=0, **kw).fit(Z["train"], y)
    p = m.predict_proba(Z["PublicTest"]) + m.predict_proba(Z["PublicTest_m"])
    print(kw, f"public {(p.argmax(1) == yv).mean():.4f} ({time.time() - t:.0f}s, {m.n_iter_} iters)", flush=True)
