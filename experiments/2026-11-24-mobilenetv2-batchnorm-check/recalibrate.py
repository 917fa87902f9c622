import os, time; os.environ["TF_CPP_MIN_LOG_LEVEL"] = "3"
import numpy as np, keras
from fer_classic.data import load_fer2013
import fer_classic.cnn.training
m = keras.models.load_model(os.path.expanduser("~/.cache/fer_classic/mobilenetv2-momentum0.999-discarded/last.keras"), compile=False)
d = load_fer2013()
p = d["PublicTest"]; t = d["Training"]
X = p.faces[:1024, ..., None].astype("float32"); y = p.labels[:1024]
def score(tag):
    out = np.concatenate([np.asarray(m(X[i:i + 128], training=False)) for i in range(0, len(X), 128)])
    pred = out.argmax(1); print(tag, "%.4f" % (pred == y).mean(), np.bincount(pred, minlength=7), flush=True)
score("before")
bns = [l for l in m._flatten_layers() if isinstance(l, keras.layers.BatchNormalization)]
print(len(bns), bns[0].momentum)
for l in bns: l.momentum = 0.9
rng = np.random.default_rng(0); idx = rng.permutation(len(t.faces))
t0 = time.time()
for b in range(60):
    xb = t.faces[idx[b*64:(b+1)*64], ..., None].astype("float32")
    m(xb, training=True)
print("recal s", time.time() - t0)
score("after momentum 0.9 x60 batches")
