#!/usr/bin/env bash
# Performance (issue 7; README "Performance"): `cps-tool bench` against an emulated CPS3 served
# through pcscd + vpcd with the realistic latency profile, its APDUs counted by the emulator
# (`cps-tool emulate --stats`): time to first signature, ours against OpenSC's
# opensc-pkcs11.so (and the vendor's module when CPSCARD_VENDOR_MODULE names it), the APDUs of
# that sequence, a browser-like polling loop, RSS, signatures/s with 1/2/8 threads, and the
# per-APDU overhead of our stack over a bare SCardTransmit (a second card without latency that
# the bench serves on vpcd slot 1). Prints the table; nothing is judged on time: the script
# fails only when a step fails (a module does not load, a signature does not verify, no counts).
#
#   BENCH_RUNS=N (default 3) first-signature runs per module; BENCH_POLL=N (default 100) polling
#   rounds; BENCH_ARGS="..." more `cps-tool bench` options (e.g. --json); BENCH_CARD=cps4 (default
#   cps3) measures an emulated CPS4 instead, TLS 1.3's CKM_SHA256_RSA_PKCS_PSS with the
#   authentication key, ours against the vendor's module only (OpenSC cannot sign with a CPS4);
#   BENCH_MODULE=PATH measures that build of our module (a release one) instead of the debug one.
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"
source "$(dirname "${BASH_SOURCE[0]}")/pkcs11_lib.sh"
CARD=${BENCH_CARD:-cps3}
OPENSC_P11=${OPENSC_P11:-/usr/lib/x86_64-linux-gnu/opensc-pkcs11.so}
if [ "$CARD" = cps3 ] && [ ! -r "$OPENSC_P11" ]; then
  echo "FAIL - no OpenSC PKCS#11 module at $OPENSC_P11 (package opensc-pkcs11)" >&2
  exit 1
fi
build_cps_tool
build_module
# BENCH_MODULE=path: measure that build of our module instead (e.g. target/release/...)
MODULE=${BENCH_MODULE:-$MODULE}
start_pcscd
STATS="$E2E_DIR/stats.json"
start_emulator --card "$CARD" --latency realistic --stats "$STATS"
check "the emulator writes its counters" test -s "$STATS"

vendor=()
[ -n "${CPSCARD_VENDOR_MODULE:-}" ] && vendor=(--vendor "$CPSCARD_VENDOR_MODULE")
# shellcheck disable=SC2086
if timeout 300 "$CPS_TOOL" bench --generation "$CARD" --module "$MODULE" --opensc "$OPENSC_P11" "${vendor[@]}" \
     --stats "$STATS" --runs "${BENCH_RUNS:-3}" --poll-rounds "${BENCH_POLL:-100}" \
     --overhead-vpcd "127.0.0.1:$((${CPSCARD_VPCD_ADDR##*:} + 1))" ${BENCH_ARGS:-} \
     >"$E2E_DIR/bench.out" 2>"$E2E_DIR/bench.err"; then
  pass "cps-tool bench: every step ran, every signature verified"
else
  fail "cps-tool bench (exit $?)" "$(cat "$E2E_DIR/bench.err")"
fi
cat "$E2E_DIR/bench.out"
out=$(LC_ALL=C "$CPS_TOOL" --reader "$E2E_READER" pin status 2>&1) || true
check_contains "no PIN try was spent (status query: 3 tries)" "PIN: 3 of 3" "$out"
check_stop_emulator "emulator exits 0 on SIGTERM"
