#!/bin/bash
# Instructions per order (or per quote) of one `bench orders` repetition, independent of the
# machine's load: callgrind counts the instructions of two runs of different sizes and the
# difference is divided by the difference of the sizes (start-up, imports and set-up cancel out).
#
#   tools/callgrind_orders.sh KIND N1 N2 [--store memory] [--no-risk] ...
#   tools/callgrind_orders.sh market 500 1500
#   PYTHONPATH=/other/tree/src tools/callgrind_orders.sh market 500 1500   # another version
#
# KIND: market, limit-cancel, long, data, data-prebuilt (docs/performance.md).
set -euo pipefail
kind=$1 n1=$2 n2=$3
shift 3
python=${PYTHON:-.venv/bin/python}
out=$(mktemp -d)
for n in "$n1" "$n2"; do
  valgrind --tool=callgrind --callgrind-out-file="$out/cg.$n" \
    "$python" -m execflow.bench.orders --one "$kind" --n "$n" "$@" >"$out/$n.json" 2>"$out/$n.err" &
done
wait
i1=$(sed -n 's/^summary: //p' "$out/cg.$n1")
i2=$(sed -n 's/^summary: //p' "$out/cg.$n2")
echo "$kind $*: instructions $n1: $i1, $n2: $i2; per item: $(((i2 - i1) / (n2 - n1)))"
rm -rf "$out"
