#!/usr/bin/env bash
# Return a checkout that tools/gpu/prepare.sh made slim to the branch it was on, as it was.
#
#   bash tools/gpu/restore.sh
#
# Edits made in the slim checkout (a fix to tools/gpu/train.py between two device runs, say) are not lost:
# they are saved to .git/gpu-slim-<time>.patch, the slim files are put back, the branch is checked out, and the
# patch is applied there, uncommitted, for review. .gpu-data/ and .whl/ stay for the next prepare; the
# weights a run returned lie outside the checkout, where the device tool put them.
set -euo pipefail
cd "$(git rev-parse --show-toplevel)"
GIT_DIR_=$(git rev-parse --git-dir)
STATE=$GIT_DIR_/gpu-prepare

die() { echo "restore.sh: $*" >&2; exit 1; }

[[ -f $STATE ]] || die "nothing to restore: no $STATE (prepare.sh was not run, or restore already ran)"
branch=$(sed -n 's/^branch=//p' "$STATE")
head=$(sed -n 's/^head=//p' "$STATE")
slim=$(sed -n 's/^slim=//p' "$STATE")
[[ $(git rev-parse HEAD) == "$slim" ]] || die "HEAD is $(git rev-parse --short HEAD), not the slim commit ${slim:0:10}" \
  "that prepare.sh checked out; switch back with: git checkout $branch (and delete $STATE)"
untracked=$(git ls-files --others --exclude-standard)
[[ -z $untracked ]] || die "untracked files in the slim checkout; move them out first: $untracked"

patch=
if [[ -n $(git status --porcelain) ]]; then
  patch=$GIT_DIR_/gpu-slim-$(date -u +%Y%m%dT%H%M%SZ).patch
  git diff --binary HEAD >"$patch"
  git checkout -q HEAD -- .
fi
git checkout -q "$branch"
rm "$STATE"
now=$(git rev-parse HEAD)
echo "restored: $branch at ${now:0:10}$([[ $now == "$head" ]] || echo " (it was ${head:0:10} at prepare)")"
if [[ -n $patch ]]; then
  git apply "$patch" || die "the edits made in the slim checkout did not apply to $branch; they are in $patch"
  echo "the edits made in the slim checkout are applied to $branch, uncommitted ($patch)"
fi
