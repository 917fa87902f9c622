"""Where re-training the fused method's time goes, features cached: train_method under cProfile, every split scored.

Usage (from the repository root)::

    python experiments/2026-12-07-retrain-profile/where_time_goes.py > experiments/2026-12-07-retrain-profile/profile-COMMIT.txt
"""

import cProfile
import pstats
import sys
import time

import fer_classic.cnn.embeddings  # noqa: F401  registers cnn-fer
from fer_classic.classify import train_method
from fer_classic.compare.methods import FUSED_METHOD
from fer_classic.data import load_fer2013


def main(method=FUSED_METHOD):
    data = load_fer2013(ferplus=False)
    profile = cProfile.Profile()
    started = time.perf_counter()
    profile.enable()
    _, entry = train_method(method, data, log=lambda line: print(line, flush=True))
    profile.disable()
    print("total incl scoring", round(time.perf_counter() - started, 1), entry["timings_seconds"],
          entry["peak_memory_mb"], "MB")
    pstats.Stats(profile).sort_stats("cumulative").print_stats(45)


if __name__ == "__main__":
    main(*sys.argv[1:])
