from workdir import WORKDIR
import time, numpy as np
from blocks import block, y, yv
from sklearn.svm import LinearSVC
from sklearn.kernel_approximation import Nystroem
from sklearn.neural_network import MLPClassifier
specs = ["hog:none:500", "lbp:sqrt:500", "sift-fisher:none:500", "landmarks:none:170"]
blocks = [block(*(s.split(":")[:2]), int(s.split(":")[2])) for s in specs]
Z = {s: np.hstack([b[s] for b in blocks]) for s in blocks[0]}
splits = ("PublicTest", "PublicTest_m")
np.savez(f"{WORKDIR}/combo.npz", **Z)
def pub(model, Zs):
    f = getattr(model, "decision_function", None) or model.predict_proba
    d = f(Zs["PublicTest"]) + f(Zs["PublicTest_m"])
    return (d.argmax(1) == yv).mean()
for C in (0.001, 0.003):
    t = time.time(); m = LinearSVC(C=C, dual=False).fit(Z["train"], y)
    print(f"linear C={C}: {pub(m, Z):.4f} {time.time()-t:.0f}s", flush=True)
d = Z["train"].shape[1]
for gamma_scale in (1.0, 2.0):
    t = time.time()
    ny = Nystroem(gamma=1 / (gamma_scale * 2 * d), n_components=4000, random_state=0).fit(Z["train"][:20000])
    N = {s: ny.transform(Z[s]).astype(np.float32) for s in ("train",) + splits}
    for C in (0.01, 0.1):
        m = LinearSVC(C=C, dual=False).fit(N["train"], y)
        print(f"nystroem4000 g=1/({gamma_scale}*2d) C={C}: {pub(m, N):.4f} {time.time()-t:.0f}s", flush=True)
t = time.time(); m = MLPClassifier((1024,), alpha=0.1, early_stopping=True, max_iter=60, random_state=0).fit(Z["train"], y)
print(f"mlp: {pub(m, Z):.4f} {time.time()-t:.0f}s", flush=True)
