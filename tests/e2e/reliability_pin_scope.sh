#!/usr/bin/env bash
# The PIN does not outlive its application (issue 6 item 8), through pcscd + vpcd + `cps-tool
# emulate`, on both card generations. The card's verified state survives between processes
# while the card stays powered (CPS3.md §7, CPS4.md §7), which the control check shows with
# cps-tool (VERIFY in one process, status "verified" in the next). Then a first process logs in
# and signs with our module through pkcs11-tool (which then closes its session and finalizes);
# a second process must find the card's PIN not verified, and cannot sign without a PIN. Last
# (issue 6 item 8): a PIN left verified by another process — one that exited without resetting
# the card, one SIGKILLed while logged in through our module — is reset by the next process that
# opens the card through our module, before anything else.
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"
source "$(dirname "${BASH_SOURCE[0]}")/pkcs11_lib.sh"
require pkcs11-tool
build_cps_tool
build_module
build_driver

p11() { timeout 300 pkcs11-tool --module "$MODULE" "$@"; }
# pin_state: the user PIN's state as a second process sees it ("verified", "not_verified"...).
pin_state() {
  timeout 60 "$CPS_TOOL" --reader "$E2E_READER" pin status --json 2>/dev/null \
    | tr -d ' \n' | sed -n -E 's/.*"pin":\{[^}]*"state":"([a-z_]+)".*/\1/p'
}

start_pcscd
for g in cps3 cps4; do
  export CPSCARD_CACHE_DIR="$E2E_DIR/cache-$g"
  start_emulator --card "$g" --image "$E2E_DIR/$g.json"
  if [ "$g" = cps3 ]; then id=e828bd080f8025000001ff001002; else id=e828bd080f8025000001ff001020; fi
  printf 'pin scope %s\n' "$g" > "$E2E_DIR/msg.txt"

  check_eq "$g: a fresh card's PIN is not verified" not_verified "$(pin_state)"
  # control: the state does survive between processes (so the checks below mean something)
  CPS_PIN=1234 timeout 60 "$CPS_TOOL" --reader "$E2E_READER" pin verify >/dev/null 2>&1 || true
  check_eq "$g: control: a VERIFY by one process is seen by the next" verified "$(pin_state)"
  # our module: login, sign, close, finalize, exit; then reset the card's security state
  check "$g: process 1 logs in and signs through the module" \
    p11 --login --pin 1234 --sign -m SHA256-RSA-PKCS --id "$id" \
      --input-file "$E2E_DIR/msg.txt" --output-file "$E2E_DIR/sig.bin"
  check_eq "$g: after process 1 finalized and exited, the PIN is not verified" \
    not_verified "$(pin_state)"
  check_fails "$g: process 2 cannot sign without the PIN" \
    p11 --sign -m SHA256-RSA-PKCS --id "$id" \
      --input-file "$E2E_DIR/msg.txt" --output-file "$E2E_DIR/sig2.bin"
  check_eq "$g: and the PIN is still not verified" not_verified "$(pin_state)"
  # A verified state left by another process (cps-tool exits without resetting the card) is
  # ended by the next process that opens the card through our module, before any login.
  CPS_PIN=1234 timeout 60 "$CPS_TOOL" --reader "$E2E_READER" pin verify >/dev/null 2>&1 || true
  check_eq "$g: control: left verified by cps-tool" verified "$(pin_state)"
  check_contains "$g: process 2 (our module, no login) sees no private object" \
    "private_keys=0 private_objects=0" "$(timeout 60 "$DRIVE" "$MODULE" probe 2>&1)"
  check_eq "$g: opening the card through the module reset the PIN left verified" \
    not_verified "$(pin_state)"
  # A process KILLED while logged in (no C_Logout, C_CloseSession, C_Finalize).
  timeout 120 "$DRIVE" "$MODULE" hold --pin 1234 >"$E2E_DIR/hold-$g.out" 2>&1 &
  holder=$!
  for i in $(seq 1 600); do grep -q logged-in "$E2E_DIR/hold-$g.out" && break; sleep 0.05; done
  check_eq "$g: process 1 holds a login" verified "$(pin_state)"
  kill -KILL "$holder"; wait "$holder" 2>/dev/null || true
  # control: pcscd does not reset the card when a client dies (so the next checks mean something)
  check_eq "$g: control: the card is still verified after process 1 was SIGKILLed" \
    verified "$(pin_state)"
  check_contains "$g: process 2 after the SIGKILL sees no private object" \
    "private_keys=0 private_objects=0" "$(timeout 60 "$DRIVE" "$MODULE" probe 2>&1)"
  check_eq "$g: after process 2 opened the card, the PIN is not verified" \
    not_verified "$(pin_state)"
  check_fails "$g: process 3 cannot sign without the PIN" \
    p11 --sign -m SHA256-RSA-PKCS --id "$id" \
      --input-file "$E2E_DIR/msg.txt" --output-file "$E2E_DIR/sig3.bin"
  check_stop_emulator "$g: the emulator stops cleanly"
  wait_card absent || true
  unset CPSCARD_CACHE_DIR
done
