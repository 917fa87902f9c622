import time, numpy as np
from fer_classic.data import load_fer2013
from fer_classic.classify import build_method
from fer_classic.extract.cache import caching
from fer_classic.extract.transformers import face_landmarks
d = load_fer2013()["Training"]
feats = build_method("hog+lbp+landmarks+sift-fisher/mlp", n_jobs=1).named_steps["features"]
feats.fit(d.faces[:6000])
faces = d.faces[6000:8000]
for jobs in (1, 2):
    with caching(False):
        t = time.perf_counter(); face_landmarks(faces, 2, jobs); print(jobs, "landmarks only", round(time.perf_counter() - t, 2), flush=True)
        for name, pipe in feats.transformer_list:
            pipe.set_params(extract__n_jobs=jobs)
            t = time.perf_counter(); pipe[0].transform(faces); print(jobs, name, round(time.perf_counter() - t, 2), flush=True)
