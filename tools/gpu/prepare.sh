#!/usr/bin/env bash
# Put this checkout into the slim state that the device tool can send (docs/gpu.md); tools/gpu/restore.sh undoes it.
#
#   bash tools/gpu/prepare.sh            # at a session's start, before anyone edits the checkout
#
# The device tool sends the tracked files with each call, at most 64 MiB with what `carry` names, and models/
# alone is 78 MB. So this checks out, detached, a commit of its own whose tree holds only what training needs
# (SLIM_PATHS and every .gitignore, so that ignored folders stay ignored), on top of the branch's commit; the
# branch itself is not touched. It also writes, in folders that .git/info/exclude ignores:
#   .gpu-data/  Training and PublicTest faces, lossless WebP (tools/gpu/faces_pack.py), checked byte-exact;
#   .whl/       the wheels the device lacks (keras, namex, optree), the versions of this checkout's venv.
# Both are kept by restore.sh and reused. It refuses a checkout with uncommitted or untracked files, a detached
# HEAD, or a second prepare; it prints what will travel and fails if that is over the limit.
set -euo pipefail
cd "$(git rev-parse --show-toplevel)"

SLIM_PATHS=(fer_classic tools/gpu setup.py setup.cfg)
LIMIT=$((64 * 1024 * 1024))
GIT_DIR_=$(git rev-parse --git-dir)
STATE=$GIT_DIR_/gpu-prepare
PYTHON=${PYTHON:-.venv/bin/python}
FER2013=${FER2013:-/work/shared/fer2013/fer2013.npz}

die() { echo "prepare.sh: $*" >&2; exit 1; }

[[ ! -e $STATE ]] || die "already prepared ($(cat "$STATE")); run tools/gpu/restore.sh first"
branch=$(git symbolic-ref -q --short HEAD) || die "HEAD is detached; check out the branch to train from first"
for folder in /.gpu-data/ /.whl/; do
  grep -qxF "$folder" "$GIT_DIR_/info/exclude" 2>/dev/null || echo "$folder" >>"$GIT_DIR_/info/exclude"
done
[[ -z $(git status --porcelain) ]] || die "uncommitted or untracked files (git status): commit or remove them first"
head=$(git rev-parse HEAD)

if [[ ! -f .gpu-data/index.json ]]; then
  [[ -f $FER2013 ]] || die "no $FER2013 to pack (set FER2013=path/to/fer2013.npz)"
  PYTHONPATH=. "$PYTHON" tools/gpu/faces_pack.py "$FER2013" .gpu-data
fi

wheels=()
for package in keras namex optree; do
  version=$("$PYTHON" -m pip show "$package" 2>/dev/null | sed -n 's/^Version: //p')
  [[ -n $version ]] || die "$package is not installed in $PYTHON's environment; the device needs its version"
  for old in .whl/"$package"-*.whl; do    # one version of each: two stop the install on the device
    [[ ! -e $old || $old == .whl/"$package-$version"-* ]] || rm "$old"
  done
  ls .whl/"$package"-"$version"-*.whl >/dev/null 2>&1 || wheels+=("$package==$version")
done
if ((${#wheels[@]})); then
  # The device's python3 is CPython 3.12 on x86-64 (KINDS.md); --no-deps: the rest of keras's needs are there.
  "$PYTHON" -m pip download -q --no-deps --only-binary=:all: --python-version 3.12 --implementation cp \
    --platform manylinux_2_28_x86_64 --platform manylinux_2_27_x86_64 --platform manylinux_2_17_x86_64 \
    --platform manylinux2014_x86_64 -d .whl "${wheels[@]}"
fi

# The slim commit: the branch's blobs for SLIM_PATHS and every .gitignore, in an index of its own.
export GIT_INDEX_FILE=$GIT_DIR_/gpu-slim-index
git read-tree --empty
{ git ls-tree -r "$head" -- "${SLIM_PATHS[@]}"; git ls-tree -r "$head" | grep -E $'\t(.*/)?\\.gitignore$' || true; } |
  git update-index --index-info
# The device has no git: train.py records the commit it trained from by this file.
git update-index --add --cacheinfo "100644,$(echo "$head" | git hash-object -w --stdin),tools/gpu/source-commit"
ident=()     # commit-tree needs an author; a checkout without one gets this script's name
git config user.email >/dev/null || ident=(-c user.name=prepare.sh -c user.email=prepare.sh@localhost)
slim=$(git "${ident[@]}" commit-tree "$(git write-tree)" -p "$head" -m "gpu: slim tree of $head for the device tool")
rm -f "$GIT_INDEX_FILE"
unset GIT_INDEX_FILE

printf 'branch=%s\nhead=%s\nslim=%s\n' "$branch" "$head" "$slim" >"$STATE"
git checkout -q --detach "$slim"
[[ -z $(git status --porcelain) ]] || die "the slim checkout is not clean (git status); run tools/gpu/restore.sh"

total_of() { awk '{ sum += $1 } END { print sum + 0 }'; }
tracked=$(git ls-files -z | xargs -0 -r stat -c %s | total_of)
carried=$(find .gpu-data .whl -type f -printf '%s\n' | total_of)
shared=0
if [[ -d shared ]]; then shared=$(find shared -type f -printf '%s\n' | total_of); fi
total=$((tracked + carried + shared))
echo "prepared: $slim (slim tree of $branch at ${head:0:10}); tracked $((tracked / 1024)) KiB, .gpu-data and .whl" \
  "$((carried / 1024)) KiB, shared/ $((shared / 1024)) KiB: $((total / 1024)) KiB of $((LIMIT / 1024)) KiB"
((total <= LIMIT)) || die "$total bytes would travel, over the device tool's $LIMIT; run tools/gpu/restore.sh"
