#!/usr/bin/env bash
# evaluate --report-max on one rank, with the checkpoint and data of tests/report_e2e.sh: the same
# misclassified set as the 2-rank report, only the worst image shown.
source "$(dirname "$0")/train_common.sh"
: "${E2E:?}"
rm -rf "$WORK/report1"
ck="$E2E/ck/latest.h5"
[ -f "$ck" ] && [ -f "$E2E/report/index.html" ] || fail "no $ck or report (tests/report_e2e.sh makes them)"
# one rank, the gallery cut to one image: the same misclassified set, the worst one shown
"$TRAINER" evaluate --checkpoint "$ck" --subset all --report "$WORK/report1" --report-max 1 \
  >"$WORK/eval1.log" 2>&1 || { cat "$WORK/eval1.log"; fail "evaluate --report-max 1 failed"; }
"$PY" "$here/report_check.py" "$WORK/report1/index.html" "$WORK/eval1.log" "$ck" \
  || fail "report content (one rank, --report-max 1)"
total="$(grep -oE 'data-total="[0-9]+"' "$E2E/report/index.html")"
[ "${total#data-total=}" != '"0"' ] && [ "${total#data-total=}" != '"1"' ] || fail "need 2+ misclassified images, $total"
grep -q "$total data-shown=\"1\"" "$WORK/report1/index.html" \
  || fail "--report-max 1 on one rank: expected $total data-shown=\"1\""
grep -o '<figure[^>]*>' "$E2E/report/index.html" | head -1 >"$WORK/worst.txt"
grep -qF "$(cat "$WORK/worst.txt")" "$WORK/report1/index.html" || fail "--report-max 1 does not show the worst image"
echo "report_limit: ok"
