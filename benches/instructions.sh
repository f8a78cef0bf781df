#!/usr/bin/env bash
# Instructions a render of the income step costs, a POST-redirect-GET cycle
# of the looping step and a reload from the page cache (benches/load.sh's
# rows), counted by callgrind:
# figures that do not move with the host, where timings do. Two runs of
# benches/instructions.rs each (200 and 2 200 times); the difference over
# 2 000 leaves out loading the library. Installs valgrind with apt if missing.
#
#   benches/instructions.sh
set -euo pipefail
cd "$(dirname "$0")/.."
if ! command -v valgrind >/dev/null; then
  sudo=""; [ "$(id -u)" -eq 0 ] || sudo=sudo
  DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -qq valgrind >/dev/null
fi
bin=$(cargo bench --locked --bench instructions --no-run 2>&1 | sed -n 's/.*Executable .*(\(.*\)).*/\1/p' | head -n 1)
[ -x "$bin" ] || { echo "benches/instructions.rs did not build" >&2; exit 1; }
count() { # what times -> instructions
  local out
  # The bench's own exit status: a failed render is no figure.
  # One loader thread: the library's load, which the difference leaves
  # out, then costs the same in both runs (with two, it moved by 2 500).
  out=$(RAYON_NUM_THREADS=1 WHAT=$1 ITER=$2 valgrind --tool=callgrind --callgrind-out-file=/dev/null "$bin" 2>&1) \
    || { echo "benches/instructions.rs failed:" >&2; echo "$out" | grep -v '^==' >&2; exit 1; }
  echo "$out" | sed -n 's/.*Collected : \([0-9]*\).*/\1/p'
}
per() { # what -> instructions of one
  local low high
  low=$(count "$1" 200) || exit 1
  [ -n "$low" ] || { echo "callgrind gave no count" >&2; exit 1; }
  high=$(count "$1" 2200) || exit 1
  echo $(( (high - low) / 2000 ))
}
render=$(per render)
cycle=$(per cycle)
kept=$(per kept)
echo "a render of the income step (router, session, view, templates, marks): $render instructions"
echo "a POST-redirect-GET cycle of the looping step (submit, redirect, render): $cycle instructions"
echo "a reload of the income step from the page cache (router, session, key, lookup): $kept instructions"
