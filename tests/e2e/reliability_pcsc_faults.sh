#!/usr/bin/env bash
# Pulled card and concurrency through pcscd + vpcd (issue 6 items 1 and 3), on both card
# generations, through our module loaded by a small C-ABI driver (pkcs11-module/examples/
# p11_drive.rs: dlopen, C_* calls, CKR_* names printed):
# - the emulator (`cps-tool emulate`) is killed (SIGKILL: the vpcd socket closes, pcscd sees the
#   card pulled) in the middle of a signature loop, and between C_OpenSession and C_Login; the
#   C_Sign in flight must answer CKR_DEVICE_REMOVED (not CKR_DEVICE_ERROR: vpcd fails the APDU
#   before pcscd has seen the card go), C_Login CKR_DEVICE_REMOVED / CKR_TOKEN_NOT_PRESENT, the
#   old session be gone
#   (CKR_SESSION_HANDLE_INVALID), and once the emulator is back (same card image) a new session
#   logs in and signs (verified); no PIN try consumed (the image's counter) and no VERIFY sent
#   but the driver's own logins (pcscd's APDU log);
# - the emulator pulls the card itself after N APDUs (`cps-tool emulate --fault remove-after=N`,
#   back 2.5 s later) for a few N inside the signature loop: the same answers and recovery;
# - another application resets the card (opensc-tool --reset) in the middle of the signature
#   loop: C_Sign answers CKR_USER_NOT_LOGGED_IN (the card forgot the PIN; the VERIFY is never
#   replayed), the session lives on, a new C_Login signs again;
# - 2 processes x 8 threads x 25 signatures on one card, both keys (CPS4: every other signature
#   RSA-PSS), bounded by `timeout`: every signature verifies with the token's certificate.
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"
source "$(dirname "${BASH_SOURCE[0]}")/pkcs11_lib.sh"
require timeout opensc-tool
build_cps_tool
build_module
build_driver

THREADS=8
PER_THREAD=25
REMOVE_AT=${REMOVE_AT:-"40 43 46"}

# tries IMAGE: the PIN tries counter the emulator saved.
tries() { sed -n -E 's/.*"pin_tries": *([0-9]+).*/\1/p' "$1"; }
# verifies: VERIFY commands carrying a PIN that pcscd has passed to the card so far (T=0/T=1
# CLA 00 or 01, INS 20, Lc 08).
verifies() { grep -c -E 'APDU: 0[01] 20 00 [0-9A-F]{2} 08 ' "$E2E_DIR/pcscd.log" || true; }
# wait_line FILE TEXT: until the driver printed TEXT (bounded).
wait_line() {
  local i
  for i in $(seq 1 $((E2E_TIMEOUT * 20))); do grep -q -- "$2" "$1" 2>/dev/null && return 0; sleep 0.05; done
  echo "no '$2' in $1:" >&2; cat "$1" >&2; return 1
}
# field FILE KEY: the value of KEY= in the driver's output.
field() { sed -n -E "s/.*(^| )$2=([^ ]*).*/\2/p" "$1" | head -n 1; }
is_removed_rv() { [[ $1 == CKR_DEVICE_REMOVED || $1 == CKR_TOKEN_NOT_PRESENT ]]; }

start_pcscd
for g in cps3 cps4; do
  export CPSCARD_CACHE_DIR="$E2E_DIR/cache-$g"
  img="$E2E_DIR/$g.json"
  start_emulator --card "$g" --image "$img"
  full=$(tries "$img")
  check_eq "$g: a fresh card has 3 tries" 3 "$full"

  # --- the emulator killed in the middle of a signature loop -------------------------------
  out="$E2E_DIR/sign-$g.out"; go="$E2E_DIR/go-sign-$g"
  v0=$(verifies)
  timeout 120 "$DRIVE" "$MODULE" interrupt-sign --pin 1234 --go "$go" >"$out" 2>&1 &
  drv=$!
  wait_line "$out" paused
  touch "$go"
  wait_line "$out" signing           # a few signatures go through, then the card is pulled
  kill -KILL "$EMU_PID"; wait "$EMU_PID" 2>/dev/null || true
  wait_line "$out" "failed=" || true
  wait_card absent || fail "$g: pcscd sees the card pulled"
  touch "$go.next"
  wait_line "$out" "after=" || true
  start_emulator --card "$g" --image "$img"
  rc=0; wait "$drv" || rc=$?
  log "$g interrupt-sign: $(grep -v WARN "$out" | tr '\n' ' ')"
  check_eq "$g: sign loop: the driver recovered (exit 0)" 0 "$rc"
  n=$(field "$out" signed_before)
  if [ "${n:-0}" -gt 0 ]; then pass "$g: $n signatures before the card was pulled"; else fail "$g: signatures before the pull" "$(cat "$out")"; fi
  # The C_Sign in flight when vpcd lost the card: vpcd answers 0 bytes or NOT_TRANSACTED before
  # pcscd notices the card is gone; the transport then asks SCardStatus until pcscd has seen it,
  # so this very call answers CKR_DEVICE_REMOVED (never CKR_DEVICE_ERROR).
  check_eq "$g: C_Sign in flight when the card was pulled" CKR_DEVICE_REMOVED "$(field "$out" rv)"
  rv=$(field "$out" after)
  if is_removed_rv "$rv" || [ "$rv" = CKR_SESSION_HANDLE_INVALID ]; then pass "$g: C_Sign once pcscd saw the card pulled: $rv"; else fail "$g: C_Sign once pcscd saw the card pulled: $rv" "$(cat "$out")"; fi
  check_eq "$g: the old session is gone" CKR_SESSION_HANDLE_INVALID "$(field "$out" old_session)"
  check_eq "$g: after restarting the emulator a new session logs in and signs" yes "$(field "$out" recovered)"
  check_eq "$g: no PIN try consumed" "$full" "$(tries "$img")"
  check_eq "$g: VERIFY sent only for the two logins" 2 $(( $(verifies) - v0 ))

  # --- another application resets the card in the middle of the signature loop -------------
  out="$E2E_DIR/reset-$g.out"; go="$E2E_DIR/go-reset-$g"
  v0=$(verifies)
  timeout 120 "$DRIVE" "$MODULE" interrupt-sign --pin 1234 --go "$go" >"$out" 2>&1 &
  drv=$!
  wait_line "$out" paused
  touch "$go"
  wait_line "$out" signing
  check "$g: another application resets the card (opensc-tool --reset)" \
    timeout 30 opensc-tool -r 0 --reset warm
  touch "$go.next"
  rc=0; wait "$drv" || rc=$?
  log "$g reset: $(grep -v WARN "$out" | tr '\n' ' ')"
  check_eq "$g: reset: the driver recovered (exit 0)" 0 "$rc"
  check_eq "$g: C_Sign after the reset: the card forgot the PIN" CKR_USER_NOT_LOGGED_IN "$(field "$out" rv)"
  check_contains "$g: and the session is logged out" Public "$(field "$out" old_state)"
  check_eq "$g: the session survives the reset" CKR_OK "$(field "$out" old_session)"
  check_eq "$g: a new login signs again" yes "$(field "$out" recovered)"
  check_eq "$g: no PIN try consumed" "$full" "$(tries "$img")"
  check_eq "$g: VERIFY never replayed: the two logins only" 2 $(( $(verifies) - v0 ))

  # --- the emulator killed between C_OpenSession and C_Login --------------------------------
  out="$E2E_DIR/login-$g.out"; go="$E2E_DIR/go-login-$g"
  v0=$(verifies)
  timeout 120 "$DRIVE" "$MODULE" interrupt-login --pin 1234 --go "$go" >"$out" 2>&1 &
  drv=$!
  wait_line "$out" paused
  kill -KILL "$EMU_PID"; wait "$EMU_PID" 2>/dev/null || true
  wait_card absent || fail "$g: pcscd sees the card pulled"
  touch "$go"
  wait_line "$out" "failed=" || true
  start_emulator --card "$g" --image "$img"
  rc=0; wait "$drv" || rc=$?
  log "$g interrupt-login: $(grep -v WARN "$out" | tr '\n' ' ')"
  check_eq "$g: login: the driver recovered (exit 0)" 0 "$rc"
  rv=$(field "$out" rv)
  if [[ $rv == CKR_DEVICE_REMOVED || $rv == CKR_TOKEN_NOT_PRESENT || $rv == CKR_SESSION_HANDLE_INVALID ]]; then
    pass "$g: C_Login with the card pulled: $rv"
  else
    fail "$g: C_Login with the card pulled: $rv" "$(cat "$out")"
  fi
  check_eq "$g: after restarting the emulator a new session logs in and signs" yes "$(field "$out" recovered)"
  check_eq "$g: no PIN try consumed" "$full" "$(tries "$img")"
  check_eq "$g: no VERIFY sent to the pulled card, one for the new login" 1 $(( $(verifies) - v0 ))

  # --- pulled by the emulator itself after N APDUs (cps-tool emulate --fault remove-after=N):
  # the bridge closes its vpcd connection right after the N-th answer, the card comes back by
  # itself after 2.5 s (time enough for pcscd to see it gone). N lands at a different APDU of
  # the signature loop each time.
  check_stop_emulator "$g: the emulator stops cleanly"
  wait_card absent || true
  for n in $REMOVE_AT; do
    start_emulator --card "$g" --image "$img" --fault "remove-after=$n" --fault insert-after=2500
    out="$E2E_DIR/remove-$g-$n.out"; go="$E2E_DIR/go-remove-$g-$n"
    v0=$(verifies)
    touch "$go"
    timeout 120 "$DRIVE" "$MODULE" interrupt-sign --pin 1234 --go "$go" >"$out" 2>&1 &
    drv=$!
    wait_line "$out" "failed=" || true
    wait_card absent || fail "$g remove-after=$n: pcscd sees the card pulled"
    touch "$go.next"
    rc=0; wait "$drv" || rc=$?
    log "$g remove-after=$n: $(grep -v WARN "$out" | tr '\n' ' ')"
    rv=$(field "$out" rv); after=$(field "$out" after)
    if [ "$rc" -eq 0 ] && [ "$rv" = CKR_DEVICE_REMOVED ] \
       && { is_removed_rv "$after" || [ "$after" = CKR_SESSION_HANDLE_INVALID ]; } \
       && [ "$(field "$out" old_session)" = CKR_SESSION_HANDLE_INVALID ] \
       && [ "$(field "$out" recovered)" = yes ]; then
      pass "$g remove-after=$n: C_Sign $rv, then $after, session gone, a new session signs"
    else
      fail "$g remove-after=$n (exit $rc)" "$(cat "$out")"
    fi
    check_eq "$g remove-after=$n: no PIN try consumed, VERIFY only for the two logins" \
      "$full 2" "$(tries "$img") $(( $(verifies) - v0 ))"
    check_stop_emulator "$g remove-after=$n: the emulator stops cleanly"
    wait_card absent || true
  done
  start_emulator --card "$g" --image "$img"

  # --- concurrency: 2 processes x 8 threads on one card --------------------------------------
  sync="$E2E_DIR/sync-$g"; mkdir -p "$sync"
  pss=(); [ "$g" = cps4 ] && pss=(--pss)
  t0=$(date +%s%N)
  for p in 1 2; do
    timeout 240 "$DRIVE" "$MODULE" sign --pin 1234 --threads "$THREADS" --count "$PER_THREAD" \
      "${pss[@]}" --sync "$sync:2" >"$E2E_DIR/threads-$g-$p.out" 2>&1 &
    eval "drv$p=\$!"
  done
  rc1=0; wait "$drv1" || rc1=$?
  rc2=0; wait "$drv2" || rc2=$?
  ms=$(( ($(date +%s%N) - t0) / 1000000 ))
  total=0
  for p in 1 2; do
    o="$E2E_DIR/threads-$g-$p.out"
    log "$g process $p: $(tr '\n' ' ' < "$o")"
    check_eq "$g: process $p: every signature verifies, no error (exit 0)" 0 "$(eval echo \$rc$p)"
    check_eq "$g: process $p: $((THREADS * PER_THREAD)) verified" $((THREADS * PER_THREAD)) "$(field "$o" verified)"
    n=$(field "$o" verified); total=$((total + ${n:-0}))
  done
  log "$g: 2 processes x $THREADS threads x $PER_THREAD signatures: $total verified in $ms ms"
  check_eq "$g: no PIN try consumed by the concurrent run" "$full" "$(tries "$img")"

  check_stop_emulator "$g: the emulator stops cleanly"
  wait_card absent || true
  unset CPSCARD_CACHE_DIR
done
