#!/usr/bin/env bash
# `cps-tool emulate` behind pcscd + vpcd, for CPS3 then CPS4: the ATR seen by OpenSC, the reader
# listing, raw APDUs through the pcsc transport (exact answers), stop = removal, restart =
# insertion, and the exit codes for no card / no reader / no service.
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"
require opensc-tool
build_cps_tool
start_pcscd
R="$E2E_READER"

declare -A ATR=(
  [cps3]=3BAC00402A001225006480000310009000
  [cps4]=3B9B188001001225006480040100009044
)
# SELECT the application, SELECT EF.SN.ICC (D003), READ its 12 bytes — per generation.
declare -A KIND=([cps3]="CPS3 (contact)" [cps4]="CPS4")
declare -A APDUS=(
  [cps3]="00A4040C0DE828BD080F8025000001FF0010 00A4090C043F00D003 00B000000C"
  [cps4]="01A4040C088025000001FF0100 01A4080C02D003 01B000000C"
)
SN_ANSWER="< 5A0A8025000001123456789F 90 00  # success"

colons() { sed 's/../&:/g; s/:$//' <<<"${1,,}"; }   # 3BAC.. -> 3b:ac:..

for gen in cps3 cps4; do
  log "--- $gen"
  start_emulator --card "$gen"
  check_eq "$gen: opensc-tool -r 0 -a prints the emulated ATR" \
    "$(colons "${ATR[$gen]}")" "$(opensc-tool -r 0 -a 2>&1 | tr -d '\r' | tail -n 1)"
  out=$("$CPS_TOOL" readers 2>&1) || true
  check_contains "$gen: cps-tool readers lists the card and its kind" \
    "$R: card present, ATR ${ATR[$gen]} [${KIND[$gen]}]" "$out"
  check_contains "$gen: cps-tool readers lists slot 1 empty" "Virtual PCD 00 01: no card" "$out"

  # shellcheck disable=SC2086
  out=$("$CPS_TOOL" --reader "$R" apdu ${APDUS[$gen]} 2>&1) || true
  read -r a1 a2 a3 <<<"${APDUS[$gen]}"
  check_eq "$gen: APDUs round-trip through pcscd (select, select EF.SN.ICC, read)" \
    "> $a1"$'\n'"< 90 00  # success"$'\n'"> $a2"$'\n'"< 90 00  # success"$'\n'"> $a3"$'\n'"$SN_ANSWER" "$out"
  # shellcheck disable=SC2086
  out=$("$CPS_TOOL" apdu ${APDUS[$gen]} 2>&1 | tail -n 1) || true
  check_eq "$gen: without --reader the first reader with a card is used" "$SN_ANSWER" "$out"

  check_stop_emulator "$gen: emulator exits 0 on SIGTERM"
  check "$gen: stopping the emulator is seen as removal" wait_card absent
  check_fails "$gen: opensc-tool -a fails without the card" opensc-tool -r 0 -a
  out=$("$CPS_TOOL" readers 2>&1) || true
  check_contains "$gen: cps-tool readers shows no card" "$R: no card" "$out"
  check_exit "$gen: apdu on the empty reader exits 5 (no card)" 5 "$CPS_TOOL" --reader "$R" apdu 00A4040000
  check_exit "$gen: apdu with no card anywhere exits 5" 5 "$CPS_TOOL" apdu 00A4040000

  start_emulator --card "$gen"
  out=$("$CPS_TOOL" readers 2>&1) || true
  check_contains "$gen: restarting the emulator is seen as insertion" "$R: card present, ATR ${ATR[$gen]}" "$out"
  # shellcheck disable=SC2086
  out=$("$CPS_TOOL" --reader "$R" apdu ${APDUS[$gen]} 2>&1 | tail -n 1) || true
  check_eq "$gen: APDUs work again after re-insertion" "$SN_ANSWER" "$out"
  check_stop_emulator "$gen: emulator exits 0 on SIGTERM (again)"
  wait_card absent || true
done

check_exit "an unknown reader exits 4" 4 "$CPS_TOOL" --reader "No Such Reader 00 00" apdu 00A4040000
check_exit "a malformed APDU exits 2" 2 "$CPS_TOOL" --reader "$R" apdu 00A404
check_exit "no pcscd exits 3" 3 env PCSCLITE_CSOCK_NAME="$E2E_DIR/none/pcscd.comm" "$CPS_TOOL" readers
