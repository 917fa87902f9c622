"""Dump full-data feature blocks (cached extraction) for classical experiments."""
import sys
import time

import numpy as np
from workdir import WORKDIR

from fer_classic.classify.methods import FEATURES
from fer_classic.data import load_fer2013
from fer_classic.extract import with_horizontal_flips
from fer_classic.faces import mirror_faces

names = sys.argv[1:]
data = load_fer2013()
train = data["Training"]
faces, labels = with_horizontal_flips(train.faces, train.labels)
np.save(f"{WORKDIR}/y_train.npy", labels)
for split in ("PublicTest", "PrivateTest"):
    np.save(f"{WORKDIR}/y_{split}.npy", data[split].labels)
for name in names:
    t = time.time()
    tr = FEATURES[name](n_jobs=2).fit(faces, labels)
    np.save(f"{WORKDIR}/{name}_train.npy", tr.transform(faces).astype(np.float32))
    for split in ("PublicTest", "PrivateTest"):
        f = data[split].faces
        np.save(f"{WORKDIR}/{name}_{split}.npy", tr.transform(f).astype(np.float32))
        np.save(f"{WORKDIR}/{name}_{split}_m.npy", tr.transform(mirror_faces(f)).astype(np.float32))
    print(name, time.time() - t, flush=True)
