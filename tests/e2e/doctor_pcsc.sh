#!/usr/bin/env bash
# `cps-tool doctor` through the real PC/SC stack (issue 8 item 1): no pcscd, pcscd with no reader,
# the vpcd readers with no card, a healthy emulated CPS4 and a CPS3 (TLS 1.2 advice) behind vpcd,
# and `--wait` for a card inserted a few seconds later (no spinner when piped). Exit codes and
# the human lines are checked here; every `--json` document is kept and then checked against
# docs/schema/doctor.json and the expected statuses by `tests/cli/doctor.rs` (ignored test
# `e2e_documents`, the same schema helper as the other tests).
# Last, the p11-kit module files against p11-kit itself: for each user override of Debian's
# opensc-pkcs11.module, `p11-kit list-modules` (run as nobody: root ignores user files, in a
# mount namespace holding that one system file) and the doctor must agree on whether OpenSC is
# loaded (the same ignored test compares them).
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"
source "$(dirname "${BASH_SOURCE[0]}")/pkcs11_lib.sh"
source "$(dirname "${BASH_SOURCE[0]}")/clients/harness.sh"
P11KIT_PKG_FILE=/usr/share/p11-kit/modules/opensc-pkcs11.module
need p11-kit:p11-kit unshare:util-linux setpriv:util-linux "$P11KIT_PKG_FILE:opensc-pkcs11"
build_cps_tool
build_module
R="$E2E_READER"
DOCS="$E2E_DIR/doctor"
mkdir -p "$DOCS"

# A HOME whose Firefox profile registers our module, and a sysroot registering it in p11-kit:
# what is not PC/SC is healthy, so that each case shows only its own problem.
HOME_DIR="$E2E_DIR/home"
SYS="$E2E_DIR/sysroot"
mkdir -p "$HOME_DIR/.mozilla/firefox/e2e.default" "$SYS/etc/pkcs11/modules"
printf '[Profile0]\nName=default\nIsRelative=1\nPath=e2e.default\n' > "$HOME_DIR/.mozilla/firefox/profiles.ini"
printf 'library=\nname=NSS Internal PKCS #11 Module\n\nlibrary=%s\nname=CPS (cpscard)\n' "$MODULE" \
  > "$HOME_DIR/.mozilla/firefox/e2e.default/pkcs11.txt"
printf 'module: %s\n' "$MODULE" > "$SYS/etc/pkcs11/modules/cpscard.module"

# "${DOCTOR[@]}" ARGS...: the card options are global, they may follow the command. An array,
# not a function: `"${DOCTOR[@]}" &` is cps-tool itself (its pid gets the SIGINT).
DOCTOR=(env HOME="$HOME_DIR" "$CPS_TOOL" doctor --module "$MODULE" --sysroot "$SYS")

# doctor_case NAME CODE [CARD OPTIONS...]: the JSON document kept as $DOCS/NAME.json, its exit
# code checked; then the human form, kept in $OUT.
doctor_case() {
  local name=$1 want=$2 rc=0; shift 2
  "${DOCTOR[@]}" "$@" --json >"$DOCS/$name.json" 2>"$DOCS/$name.err" || rc=$?
  check_eq "$name: doctor --json exits $want" "$want" "$rc"
  rc=0
  OUT=$("${DOCTOR[@]}" "$@" 2>&1) || rc=$?
  check_eq "$name: doctor exits $want" "$want" "$rc"
}

log "--- no pcscd"
PCSCLITE_CSOCK_NAME="$E2E_DIR/none/pcscd.comm" doctor_case no_pcscd 9
check_contains "no pcscd: the service line and its fix" \
  "✗ the PC/SC service is not running"$'\n'"    → " "$OUT"

log "--- pcscd, no reader"
start_pcscd --no-reader
check_exit "no reader: cps-tool readers exits 4" 4 "$CPS_TOOL" readers
doctor_case no_reader 9
check_contains "no reader: the reader line" "✗ no smart card reader found"$'\n'"    → " "$OUT"
stop_pcscd

log "--- vpcd readers, no card"
start_pcscd
doctor_case no_card 9
check_contains "no card: the reader is listed" "✓ reader $R (pinpad not known without a card)" "$OUT"
check_contains "no card: the line and its fix" "✗ no card in any reader"$'\n'"    → " "$OUT"

for gen in cps4 cps3; do
  log "--- $gen behind vpcd"
  start_emulator --card "$gen"
  want=0
  doctor_case "$gen" "$want"
  check_contains "$gen: PC/SC reachable" "✓ PC/SC service reachable" "$OUT"
  check_contains "$gen: the vpcd reader has no pinpad" "✓ reader $R (no pinpad)" "$OUT"
  check_contains "$gen: the card is recognized" "✓ $R: ${gen^^}" "$OUT"
  check_contains "$gen: PIN tries" "✓ PIN: 3 of 3 tries left" "$OUT"
  if [ "$gen" = cps4 ]; then
    # --reader: that reader only (the card in the other one is not looked at)
    rc=0; OUT=$("${DOCTOR[@]}" --reader "Virtual PCD 00 01" 2>&1) || rc=$?
    check_eq "--reader, the empty one: exit 9" 9 "$rc"
    check_contains "--reader, the empty one: no card there" "✗ no card in any reader" "$OUT"
    if [[ $OUT == *"$R"* ]]; then fail "--reader, the empty one: $R is not checked" "$OUT"
    else pass "--reader, the empty one: $R is not checked"; fi
    rc=0; OUT=$("${DOCTOR[@]}" --reader "No Such Reader" 2>&1) || rc=$?
    check_eq "--reader, an unknown one: exit 9" 9 "$rc"
    check_contains "--reader, an unknown one: said, with the fix" \
      "✗ reader not found: No Such Reader"$'\n'"    → list the readers with \`cps-tool readers\`" "$OUT"
  fi
  check_stop_emulator "$gen: emulator exits 0 on SIGTERM"
  wait_card absent || true
done
check_contains "cps3: the TLS 1.2 advice" "! CPS3: no RSA-PSS" "$OUT"

log "--- --wait: the card comes 3 s later"
rc_file="$E2E_DIR/wait.rc"
( rc=0; "${DOCTOR[@]}" --wait --json >"$DOCS/wait.json" 2>"$DOCS/wait.err" || rc=$?; echo "$rc" >"$rc_file" ) &
waiter=$!
sleep 3
if [ -e "$rc_file" ]; then fail "--wait: doctor still waiting after 3 s" "exit $(cat "$rc_file")"
else pass "--wait: doctor still waiting after 3 s"; fi
start_emulator --card cps4
for _ in $(seq 1 $((E2E_TIMEOUT * 10))); do [ -e "$rc_file" ] && break; sleep 0.1; done
[ -e "$rc_file" ] || kill -TERM "$waiter" 2>/dev/null || true
wait "$waiter" || true
check_eq "--wait: doctor exits 0 once the card is in" "0" "$(cat "$rc_file" 2>/dev/null || echo 'still waiting')"
check_eq "--wait: nothing on stderr when piped (no spinner)" "" "$(cat "$DOCS/wait.err")"
check_stop_emulator "--wait: emulator exits 0 on SIGTERM"
wait_card absent || true

log "--- Ctrl-C: while waiting, and in the middle of a (slow) card read"
# interrupted DESCRIPTION DELAY: doctor started, SIGINT after DELAY s, exit 130 wanted
interrupted() {
  local rc=0
  "${DOCTOR[@]}" --wait >"$E2E_DIR/int.out" 2>&1 &
  local pid=$!
  sleep "$2"
  kill -INT "$pid" 2>/dev/null || true
  wait "$pid" || rc=$?
  check_eq "$1" 130 "$rc"
}
interrupted "Ctrl-C while waiting for a card: exit 130" 1
start_emulator --card cps4 --latency realistic
interrupted "Ctrl-C during the card read: exit 130 after the operation" 0.5
rc=0; OUT=$(timeout 20 "$CPS_TOOL" pin status 2>&1) || rc=$?
check_eq "after Ctrl-C: the card is free at once (transaction ended)" 0 "$rc"
check_contains "after Ctrl-C: no try was used" "3 of 3 tries left" "$OUT"
check_stop_emulator "Ctrl-C: emulator exits 0 on SIGTERM"

log "--- p11-kit module files: the doctor against p11-kit list-modules"
P11SYS="$E2E_DIR/p11kit-sysroot"
P11XDG="$E2E_DIR/p11kit-xdg"
mkdir -p "$P11SYS/usr/share/p11-kit/modules"
cp "$P11KIT_PKG_FILE" "$P11SYS/usr/share/p11-kit/modules/"
chmod a+x "$E2E_DIR"
# p11kit_case NAME [FILE TEXT]...: FILEs under $P11XDG/pkcs11; p11-kit's list and the doctor's
# document kept as $DOCS/p11kit_NAME.list (its exit code last) and .json
p11kit_case() {
  local name=$1 rc=0; shift
  rm -rf "$P11XDG"; mkdir -p "$P11XDG/pkcs11/modules"
  while [ $# -ge 2 ]; do printf '%b' "$2" > "$P11XDG/pkcs11/$1"; shift 2; done
  chmod -R a+rX "$P11XDG"
  $SUDO env PCSCLITE_CSOCK_NAME="${PCSCLITE_CSOCK_NAME:-}" unshare --mount --propagation private \
    sh -c 'mount --bind "$1/usr/share/p11-kit/modules" /usr/share/p11-kit/modules &&
      { [ ! -d /etc/pkcs11 ] || mount -t tmpfs tmpfs /etc/pkcs11; } &&
      exec setpriv --reuid=65534 --regid=65534 --clear-groups \
        env HOME=/nonexistent XDG_CONFIG_HOME="$2" timeout 30 p11-kit list-modules' \
    sh "$P11SYS" "$P11XDG" >"$DOCS/p11kit_$name.list" 2>&1 || rc=$?
  echo "rc=$rc" >>"$DOCS/p11kit_$name.list"
  env HOME="$HOME_DIR" XDG_CONFIG_HOME="$P11XDG" "$CPS_TOOL" doctor --json --module "$MODULE" \
    --sysroot "$P11SYS" --emulated cps4 >"$DOCS/p11kit_$name.json" 2>"$DOCS/p11kit_$name.err" || true
  if [ -s "$DOCS/p11kit_$name.json" ]; then pass "p11-kit $name: both ran"
  else fail "p11-kit $name: no doctor document" "$(cat "$DOCS/p11kit_$name.err")"; fi
}
p11kit_case plain
p11kit_case blank modules/opensc-pkcs11.module 'module:\n'
p11kit_case disable_self modules/opensc-pkcs11.module 'disable-in: p11-kit\n'
p11kit_case disable_other modules/opensc-pkcs11.module 'disable-in: firefox, p11-kit-proxy\n'
p11kit_case enable_self modules/opensc-pkcs11.module 'enable-in: p11-kit\n'
p11kit_case enable_other modules/opensc-pkcs11.module 'enable-in: seahorse\ndisable-in: firefox\n'
p11kit_case enable_empty modules/opensc-pkcs11.module 'enable-in:\n'
p11kit_case user_only pkcs11.conf 'user-config: only\n'
p11kit_case malformed modules/junk.module 'module: x.so\nno colon here\n'

log "--- the JSON documents against docs/schema/doctor.json"
out=$(cd "$E2E_ROOT" && CPSCARD_DOCTOR_E2E_DIR="$DOCS" \
  cargo test -q --test cli -- --ignored --exact doctor::e2e_documents 2>&1) \
  && pass "JSON documents: schema and statuses (cli doctor::e2e_documents)" \
  || fail "JSON documents: schema and statuses (cli doctor::e2e_documents)" "$out"
