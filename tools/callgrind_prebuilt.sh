#!/bin/bash
# Instructions per quote of data-prebuilt's timed loop alone (the generator excluded): both
# runs make the same quotes, they differ only in how many go through the venue and risk.
#
#   tools/callgrind_prebuilt.sh N1 N2          e.g. tools/callgrind_prebuilt.sh 20000 60000
#   PYTHONPATH=/other/tree/src tools/callgrind_prebuilt.sh 20000 60000
set -euo pipefail
n1=$1 n2=$2
python=${PYTHON:-.venv/bin/python}
here=$(dirname "$0")
out=$(mktemp -d)
for n in "$n1" "$n2"; do
  valgrind --tool=callgrind --callgrind-out-file="$out/cg.$n" \
    "$python" "$here/prebuilt_quotes_apply.py" --n "$n" --make "$n2" >"$out/$n.out" 2>"$out/$n.err" &
done
wait
i1=$(sed -n 's/^summary: //p' "$out/cg.$n1")
i2=$(sed -n 's/^summary: //p' "$out/cg.$n2")
echo "data-prebuilt apply: instructions $n1: $i1, $n2: $i2; per quote: $(((i2 - i1) / (n2 - n1)))"
rm -rf "$out"
