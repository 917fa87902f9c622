"""Paired comparison of study variants on the same faces: accuracy difference and its standard error.

Reads each variant's per-face outcomes, which ``study.py`` saves under ``~/.cache/fer_classic/exp/fused-study/``.
With ``--seeds``, each variant's outcome on a face is averaged over the projection's draws (seed 0: the variant as
named, seed N: the variant with the ``seedN`` modifier) before the paired difference is taken, so that the standard
error is still over PublicTest's faces.

Usage::

    python experiments/2026-12-07-fused/compare.py BASELINE VARIANT... [--split PublicTest] [--seeds 0 1 2 3]
"""

import argparse

import numpy as np

from study import EXP


def with_seed(variant, seed):
    if not seed:
        return variant
    return f"{variant}{',' if ':' in variant else ':'}seed{seed}"


def outcomes(variant, split, seeds=(0,)):
    return np.mean([np.load(EXP / "fused-study" / f"{split}-{with_seed(variant, s).replace('/', '_').replace(':', '-')}"
                                                  ".npy").astype(float) for s in seeds], axis=0)


def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("baseline")
    parser.add_argument("variants", nargs="+")
    parser.add_argument("--split", default="PublicTest")
    parser.add_argument("--seeds", type=int, nargs="+", default=[0])
    args = parser.parse_args()
    base = outcomes(args.baseline, args.split, args.seeds)
    print(f"{args.baseline} (seeds {args.seeds}): {base.mean():.4f} on {len(base)} faces")
    for variant in args.variants:
        other = outcomes(variant, args.split, args.seeds)
        difference = other - base
        se = difference.std(ddof=1) / np.sqrt(len(difference))
        print(f"{variant}: {other.mean():.4f}, {100 * difference.mean():+.2f} points (paired s.e. {100 * se:.2f}; "
              f"{int((difference > 0).sum())} faces gained, {int((difference < 0).sum())} lost)")


if __name__ == "__main__":
    main()
