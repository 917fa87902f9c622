"""Scratch: which space should local learning find its neighbours in? (not committed)"""
import sys
import time
from pathlib import Path

import numpy as np
from joblib import Parallel, delayed

from fer_classic.classify.local import LocalSVM
from fer_classic.classify.methods import ALL_FEATURES, build_method, limit_components
from fer_classic.data import load_fer2013
from fer_classic.extract import with_horizontal_flips
from fer_classic.faces import mirror_faces

CACHE = Path.home() / ".cache/fer_classic/scratch/local_features.npz"
METHOD = "+".join(ALL_FEATURES) + "/svm-local"


def features():
    if CACHE.exists():
        return dict(np.load(CACHE))
    data = load_fer2013()
    faces, labels = with_horizontal_flips(data["Training"].faces, data["Training"].labels)
    model = build_method(METHOD, n_jobs=2)
    limit_components(model, len(faces))
    out = {"train": np.asarray(model[:-1].fit_transform(faces, labels), np.float32), "y": labels}
    for split in ("PublicTest", "PrivateTest"):
        s = data[split]
        out[split] = np.stack([np.asarray(model[:-1].transform(v), np.float32) for v in (s.faces, mirror_faces(s.faces))])
        out[split + "_y"] = s.labels
    sizes, variances = [], []
    for name, pipe in model.named_steps["features"].transformer_list:
        reduce = pipe.named_steps["reduce"]
        if reduce == "passthrough":
            n = pipe.transform(faces[:2]).shape[1]
            variances.append(np.ones(n))
        else:
            variances.append(reduce.pca_.explained_variance_)
        sizes.append(len(variances[-1]))
    out["variance"] = np.concatenate(variances)
    out["sizes"] = np.array(sizes)
    CACHE.parent.mkdir(parents=True, exist_ok=True)
    np.savez(CACHE, **out)
    return out


def score(local, views, neighbours, labels, k):
    probabilities = sum(np.array([local._local_probabilities(x, rows[:k]) for x, rows in zip(view, nearest)])
                        for view, nearest in zip(views, neighbours))
    return float((local.classes_[probabilities.argmax(axis=1)] == labels).mean())


def evaluate(name, search_train, search_views, F, split, ks=(200,), svm_train=None, svm_views=None, C=0.01):
    t = time.perf_counter()
    svm_train = F["train"] if svm_train is None else svm_train
    svm_views = F[split] if svm_views is None else svm_views
    index = LocalSVM(n_neighbors=max(ks)).fit(search_train, F["y"]).index_
    neighbours = [index.kneighbors(v)[1] for v in search_views]
    local = LocalSVM(C=C).fit(svm_train, F["y"])
    chunks = np.array_split(np.arange(len(F[split + "_y"])), 8)
    for k in ks:
        parts = Parallel(n_jobs=2)(delayed(score)(local, [v[c] for v in svm_views], [n[c] for n in neighbours],
                                                  F[split + "_y"][c], k) for c in chunks)
        acc = sum(p * len(c) for p, c in zip(parts, chunks)) / len(F[split + "_y"])
        print(f"{split} {name} k={k}: {acc:.4f} ({time.perf_counter() - t:.0f} s)", flush=True)


def local_probabilities(local, views, neighbours, k):
    return sum(np.array([local._local_probabilities(x, rows[:k]) for x, rows in zip(view, nearest)])
               for view, nearest in zip(views, neighbours)) / len(views)


def vote(F, split, search, k):
    """Soft vote of the MLP and local learning with neighbours found in ``search`` space; also each alone."""
    from fer_classic.classify.methods import _mlp
    t = time.perf_counter()
    mlp_file = CACHE.with_name("mlp_probabilities.npz")
    if mlp_file.exists():
        mlp = dict(np.load(mlp_file))
    else:
        model = _mlp().fit(F["train"], F["y"])
        mlp = {s: np.mean([model.predict_proba(v) for v in F[s]], axis=0) for s in ("PublicTest", "PrivateTest")}
        np.savez(mlp_file, **mlp)
    index = LocalSVM(n_neighbors=k).fit(search(F["train"]), F["y"]).index_
    neighbours = [index.kneighbors(search(v))[1] for v in F[split]]
    local = LocalSVM().fit(F["train"], F["y"])
    chunks = np.array_split(np.arange(len(F[split + "_y"])), 8)
    parts = Parallel(n_jobs=2)(delayed(local_probabilities)(local, [v[c] for v in F[split]],
                                                            [n[c] for n in neighbours], k) for c in chunks)
    probs = np.concatenate(parts)
    y = F[split + "_y"]
    print(f"{split} mlp alone {np.mean(mlp[split].argmax(1) == y):.4f}; local k={k} {np.mean(probs.argmax(1) == y):.4f}",
          flush=True)
    for w in (0.5, 0.6):
        print(f"{split} vote mlp {w}: {np.mean((w * mlp[split] + (1 - w) * probs).argmax(1) == y):.4f} "
              f"({time.perf_counter() - t:.0f} s)", flush=True)


def block_scales(F, power):
    """Per column: (explained variance)^(power/2), each block rescaled to keep its total variance."""
    scales, start = [], 0
    for n in F["sizes"]:
        v = F["variance"][start:start + n]
        s = v ** (power / 2)
        scales.append(s * np.sqrt(n / np.sum(s ** 2)))
        start += n
    return np.concatenate(scales).astype(np.float32)


def l2(x):
    return x / np.linalg.norm(x, axis=-1, keepdims=True)


if __name__ == "__main__":
    F = features()
    split = sys.argv[1] if len(sys.argv) > 1 else "PublicTest"
    variants = sys.argv[2:] or ["base", "p0.5", "p1", "cos"]
    for v in variants:
        if v == "base":
            evaluate(v, F["train"], F[split], F, split, ks=(100, 200, 300))
        elif v.startswith("p"):
            s = block_scales(F, float(v[1:]))
            evaluate(v, F["train"] * s, F[split] * s, F, split, ks=(100, 200, 300))
        elif v.startswith("both"):
            s = block_scales(F, float(v[4:]))
            evaluate(v, F["train"] * s, F[split] * s, F, split, ks=(100, 200, 300),
                     svm_train=F["train"] * s, svm_views=F[split] * s)
        elif v.startswith("C"):
            evaluate(v, F["train"], F[split], F, split, ks=(200,), C=float(v[1:]))
        elif v.startswith("block"):  # block weights for the search: hog, lbp, landmarks, fisher
            w = np.repeat(np.array([float(x) for x in v[5:].split(",")]), F["sizes"]).astype(np.float32)
            evaluate(v, F["train"] * w, F[split] * w, F, split, ks=(200,))
        elif v.startswith("wboth"):
            w = np.repeat(np.array([float(x) for x in v[5:].split(",")]), F["sizes"]).astype(np.float32)
            evaluate(v, F["train"] * w, F[split] * w, F, split, ks=(200,), svm_train=F["train"] * w,
                     svm_views=F[split] * w)
        elif v.startswith("cosp"):
            s = block_scales(F, float(v[4:]))
            evaluate(v, l2(F["train"] * s), l2(F[split] * s), F, split, ks=(100, 200, 300))
        elif v.startswith("vote-cos"):
            vote(F, split, l2, int(v[8:]))
        elif v.startswith("vote-base"):
            vote(F, split, lambda x: x, int(v[9:]))
        elif v == "cos":
            evaluate(v, l2(F["train"]), l2(F[split]), F, split, ks=(100, 200, 300))
