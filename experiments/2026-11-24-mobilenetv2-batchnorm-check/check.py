import os; os.environ["TF_CPP_MIN_LOG_LEVEL"] = "3"
import numpy as np, keras
from fer_classic.data import load_fer2013
import fer_classic.cnn.training  # registers custom objects (schedule)
m = keras.models.load_model(os.path.expanduser("~/.cache/fer_classic/checkpoints/mobilenetv2/last.keras"), compile=False)
p = load_fer2013()["PublicTest"]
X = p.faces[:1024, ..., None].astype("float32"); y = p.labels[:1024]
for training in (False, True):
    out = np.concatenate([np.asarray(m(X[i:i + 128], training=training)) for i in range(0, len(X), 128)])
    pred = out.argmax(1)
    print("training" if training else "inference", "accuracy %.4f" % (pred == y).mean(), "classes", np.bincount(pred, minlength=7))
bn = [l for l in m.get_layer(index=-3).layers if isinstance(l, keras.layers.BatchNormalization)] if hasattr(m.get_layer(index=-3), "layers") else []
print(len(bn), bn[0].momentum if bn else None)
