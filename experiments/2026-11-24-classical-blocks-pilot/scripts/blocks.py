from workdir import WORKDIR
import sys, time, numpy as np
from sklearn.decomposition import PCA
from sklearn.svm import LinearSVC
from sklearn.preprocessing import StandardScaler
D = f"{WORKDIR}/"
y = np.load(D + "y_train.npy"); yv = np.load(D + "y_PublicTest.npy"); yt = np.load(D + "y_PrivateTest.npy")

def load(name, split):
    return np.load(D + f"{name}_{split}.npy")

def mapped(name, X, how):
    if how == "sqrt":
        X = np.sqrt(np.maximum(X, 0))
    if how in ("sqrt", "l2"):
        X = X / np.maximum(np.linalg.norm(X, axis=1, keepdims=True), 1e-12)
    return X

def block(name, how, k):
    Xs = {s: mapped(name, load(name, s), how) for s in ("train", "PublicTest", "PublicTest_m", "PrivateTest", "PrivateTest_m")}
    rng = np.random.default_rng(0)
    pca = PCA(k, svd_solver="randomized", iterated_power=2, random_state=0).fit(Xs["train"][rng.choice(len(y), 20000, replace=False)])
    out = {s: pca.transform(X).astype(np.float32) for s, X in Xs.items()}
    sc = StandardScaler().fit(out["train"])
    return {s: sc.transform(X) for s, X in out.items()}

def score(Z, C):
    t = time.time()
    svm = LinearSVC(C=C, dual=False).fit(Z["train"], y)
    dv = svm.decision_function(Z["PublicTest"]) + svm.decision_function(Z["PublicTest_m"])
    dt = svm.decision_function(Z["PrivateTest"]) + svm.decision_function(Z["PrivateTest_m"])
    return (dv.argmax(1) == yv).mean(), (dt.argmax(1) == yt).mean(), time.time() - t

if __name__ == "__main__":
    for spec in sys.argv[1:]:
        name, how, k = spec.split(":")
        t = time.time(); Z = block(name, how, int(k)); tp = time.time() - t
        for C in (0.001, 0.01):
            v, p, ts = score(Z, C)
            print(f"{name:12s} {how:5s} k={k:5s} C={C}: public {v:.4f} private {p:.4f} (pca {tp:.0f}s, svm {ts:.0f}s)", flush=True)
