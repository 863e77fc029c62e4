#!/usr/bin/env bash
# Slot events of our PKCS#11 module from PC/SC: a private pcscd + vpcd, and the ignored test
# pkcs11-module/tests/module/pcsc_events.rs, which starts and stops `cps-tool emulate` itself and checks
# that C_WaitForSlotEvent wakes on insertion and removal, CKF_DONT_BLOCK, and that C_Finalize
# cancels a blocked wait.
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"
build_cps_tool
start_pcscd
export CPS_TOOL
out=$(cd "$E2E_ROOT" && timeout 300 cargo test -q -p cps-pkcs11 --test module -- --ignored --nocapture pcsc_events 2>&1) || true
printf '%s\n' "$out" | grep -E 'seen after' || true
check_contains "C_WaitForSlotEvent follows cards in a PC/SC reader (pcsc_events.rs)" "test result: ok. 1 passed" "$out"
