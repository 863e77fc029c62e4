# Shared by the end-to-end scripts (source it; bash only).
#
# Each script gets its OWN pcscd: started in the foreground under setsid (never --auto-exit), in a
# private mount namespace whose /run/pcscd is a temporary directory, with a vpcd reader on a free
# TCP port. Clients reach it through PCSCLITE_CSOCK_NAME (recipes/pcsc-vpcd/README.md), so the
# scripts neither disturb nor depend on a system pcscd or on another run on the same machine.
# Needs root (or sudo) for the mount namespace.
#
# Exported once `start_pcscd` has run:
#   PCSCLITE_CSOCK_NAME  the private pcscd socket (libpcsclite reads it: cps-tool, opensc, pcsc_scan)
#   CPSCARD_VPCD_ADDR    127.0.0.1:PORT of vpcd slot 0 (reader "Virtual PCD 00 00"); slot 1 = PORT+1
#   E2E_DIR              logs: pcscd.log (with --apdu), emulator*.log
# Everything started here is stopped on exit; logs are kept (and their tails shown) on failure.

set -euo pipefail

E2E_NAME=$(basename "$0" .sh)
E2E_ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)
E2E_PASSED=0
E2E_FAILED=0
E2E_READER="Virtual PCD 00 00"
E2E_TIMEOUT=${E2E_TIMEOUT:-30}
SUDO=""; [ "$(id -u)" -ne 0 ] && SUDO="sudo"
E2E_DIR=$(mktemp -d "${TMPDIR:-/tmp}/cpscard-e2e-$E2E_NAME.XXXXXX")
E2E_EMULATORS=()

log() { printf '[%s %s] %s\n' "$E2E_NAME" "$(date +%T.%3N)" "$*"; }

# --- checks -------------------------------------------------------------------------------

pass() { E2E_PASSED=$((E2E_PASSED + 1)); printf 'ok   - %s\n' "$1"; }
fail() { E2E_FAILED=$((E2E_FAILED + 1)); printf 'FAIL - %s\n' "$1"; [ -z "${2:-}" ] || printf '%s\n' "$2" | sed 's/^/       /'; }

# check DESCRIPTION CMD...: CMD must exit 0.
check() {
  local desc=$1 out; shift
  if out=$("$@" 2>&1); then pass "$desc"; else fail "$desc (exit $?: $*)" "$out"; fi
}

# check_fails DESCRIPTION CMD...: CMD must exit non-zero.
check_fails() {
  local desc=$1 out; shift
  if out=$("$@" 2>&1); then fail "$desc (unexpected success: $*)" "$out"; else pass "$desc"; fi
}

# check_eq DESCRIPTION EXPECTED ACTUAL
check_eq() {
  if [ "$2" == "$3" ]; then pass "$1"; else fail "$1" "expected: $2"$'\n'"actual:   $3"; fi
}

# check_contains DESCRIPTION NEEDLE HAYSTACK
check_contains() {
  if [[ $3 == *"$2"* ]]; then pass "$1"; else fail "$1" "missing: $2"$'\n'"in:"$'\n'"$3"; fi
}

# check_exit DESCRIPTION CODE CMD...: CMD must exit with CODE.
check_exit() {
  local desc=$1 want=$2 out rc=0; shift 2
  out=$("$@" 2>&1) || rc=$?
  if [ "$rc" -eq "$want" ]; then pass "$desc"; else fail "$desc (exit $rc, wanted $want: $*)" "$out"; fi
}

# Tools are never skipped silently: a missing one is a failure of the script.
require() {
  local t missing=""
  for t in "$@"; do command -v "$t" >/dev/null 2>&1 || missing="$missing $t"; done
  if [ -n "$missing" ]; then
    echo "FAIL - missing tools:$missing (scripts/test installs them: pcscd vsmartcard-vpcd pcsc-tools opensc openssl)" >&2
    exit 1
  fi
}

# --- cps-tool -------------------------------------------------------------------------------

CPS_TOOL=${CPS_TOOL:-${CARGO_TARGET_DIR:-$E2E_ROOT/target}/debug/cps-tool}
build_cps_tool() {
  if [ -z "${CPSCARD_E2E_NO_BUILD:-}" ]; then
    (cd "$E2E_ROOT" && cargo build -q --bin cps-tool)
  fi
  [ -x "$CPS_TOOL" ] || { echo "FAIL - no cps-tool at $CPS_TOOL" >&2; exit 1; }
}

# --- pcscd -------------------------------------------------------------------------------

alive() { [ -n "$1" ] && [ -r "/proc/$1/stat" ] && [ "$(cut -d' ' -f3 "/proc/$1/stat" 2>/dev/null)" != Z ]; }

pcscd_pid() {
  local pid
  [ -r "$E2E_DIR/run/pcscd.pid" ] || return 1
  pid=$(tr -cd '0-9' < "$E2E_DIR/run/pcscd.pid")   # the file ends with a NUL byte
  alive "$pid" && [ "$(cat "/proc/$pid/comm")" = pcscd ] && echo "$pid"
}

# TCP ports in LISTEN state, from /proc (no iproute2 needed).
listening_ports() {
  local _sl addr _rem st _rest
  { cat /proc/net/tcp; cat /proc/net/tcp6 2>/dev/null || true; } | while read -r _sl addr _rem st _rest; do
    if [ "$st" = 0A ]; then echo $((16#${addr##*:})); fi
  done
}

free_port_pair() {
  local used p i
  used=" $(listening_ports | tr '\n' ' ') "
  for i in $(seq 1 200); do
    p=$(( 36000 + (RANDOM % 1500) * 2 ))
    [[ $used == *" $p "* || $used == *" $((p + 1)) "* ]] || { echo "$p"; return 0; }
  done
  return 1
}

readers_ok() { local out; out=$(timeout 5 pcsc_scan -r 2>/dev/null) || return 1; [[ $out == *"Virtual PCD"* ]]; }

# start_pcscd [--no-reader]: --no-reader starts pcscd without the vpcd reader (no reader at all).
start_pcscd() {
  local no_reader=""
  [ "${1:-}" != --no-reader ] || no_reader=1
  require pcscd pcsc_scan unshare setsid
  [ -r /usr/lib/pcsc/drivers/serial/libifdvpcd.so ] \
    || { echo "FAIL - vpcd driver missing (package vsmartcard-vpcd)" >&2; exit 1; }
  if [ -n "$SUDO" ] && ! sudo -n true 2>/dev/null; then
    echo "FAIL - the e2e scripts need root or password-less sudo (private pcscd namespace)" >&2; exit 1
  fi
  local port i
  port=$(free_port_pair) || { echo "FAIL - no free TCP port pair for vpcd" >&2; exit 1; }
  mkdir -p "$E2E_DIR/run" "$E2E_DIR/conf"
  rm -f "$E2E_DIR/conf/vpcd"
  [ -n "$no_reader" ] || cat > "$E2E_DIR/conf/vpcd" <<EOF
FRIENDLYNAME "Virtual PCD"
DEVICENAME   /dev/null:$port
LIBPATH      /usr/lib/pcsc/drivers/serial/libifdvpcd.so
CHANNELID    $port
EOF
  $SUDO rm -f "$E2E_DIR/run/pcscd.comm" "$E2E_DIR/run/pcscd.pid"   # a previous start's
  $SUDO mkdir -p /run/pcscd                      # mount point only; the real one is $E2E_DIR/run
  # setsid + </dev/null: no controlling tty; --foreground, never --auto-exit; --apdu for evidence.
  $SUDO setsid unshare --mount --propagation private \
    sh -c 'mount --bind "$1" /run/pcscd && exec pcscd --foreground --debug --apdu -c "$2"' \
    sh "$E2E_DIR/run" "$E2E_DIR/conf" </dev/null >>"$E2E_DIR/pcscd.log" 2>&1 &
  export PCSCLITE_CSOCK_NAME="$E2E_DIR/run/pcscd.comm"
  export CPSCARD_VPCD_ADDR="127.0.0.1:$port"
  for i in $(seq 1 $((E2E_TIMEOUT * 20))); do
    if [ -S "$PCSCLITE_CSOCK_NAME" ] && pcscd_pid >/dev/null && { [ -n "$no_reader" ] || readers_ok; }; then
      log "pcscd ready (pid $(pcscd_pid || echo ?), vpcd on $CPSCARD_VPCD_ADDR, logs in $E2E_DIR)"
      return 0
    fi
    sleep 0.05
  done
  echo "FAIL - pcscd did not list the vpcd readers within ${E2E_TIMEOUT}s" >&2
  tail -n 30 "$E2E_DIR/pcscd.log" >&2
  exit 1
}

stop_pcscd() {
  local pid i
  pid=$(pcscd_pid) || return 0
  $SUDO kill -TERM "$pid" 2>/dev/null || true
  for i in $(seq 1 100); do alive "$pid" || return 0; sleep 0.05; done
  $SUDO kill -KILL "$pid" 2>/dev/null || true
}

# --- the card ------------------------------------------------------------------------------

card_present() { opensc-tool -r 0 -a >/dev/null 2>&1; }

# wait_card present|absent
wait_card() {
  local i
  for i in $(seq 1 $((E2E_TIMEOUT * 10))); do
    if card_present; then [ "$1" = present ] && return 0; else [ "$1" = absent ] && return 0; fi
    sleep 0.1
  done
  return 1
}

# start_emulator ARGS... : `cps-tool emulate ARGS --vpcd $CPSCARD_VPCD_ADDR` in the background,
# then waits for the card in slot 0. Sets EMU_PID.
start_emulator() {
  local n=${#E2E_EMULATORS[@]}
  "$CPS_TOOL" emulate "$@" --vpcd "$CPSCARD_VPCD_ADDR" </dev/null >>"$E2E_DIR/emulator$n.log" 2>&1 &
  EMU_PID=$!
  E2E_EMULATORS+=("$EMU_PID")
  if ! wait_card present; then
    echo "FAIL - no card in $E2E_READER after starting the emulator ($*)" >&2
    if alive "$EMU_PID"; then
      echo "emulator $EMU_PID still running: $(tr -d '\0' < "/proc/$EMU_PID/wchan" 2>/dev/null)" \
        "$(grep -E '^(State|Threads)' "/proc/$EMU_PID/status" | tr '\n' ' ')" >&2
      command -v ss >/dev/null && { ss -tnp | grep -F ":${CPSCARD_VPCD_ADDR##*:}" >&2 || true; }
    else
      echo "emulator $EMU_PID has exited" >&2
    fi
    tail -n 20 "$E2E_DIR/emulator$n.log" >&2
    exit 1
  fi
}

# stop_emulator: SIGTERM, then returns the emulator's exit code (SIGKILL after 5 s → 137).
# Runs in this shell (never inside $(...) or `check`: `wait` needs the emulator as a child).
stop_emulator() {
  local pid=${1:-$EMU_PID} rc=0 i
  kill -TERM "$pid" 2>/dev/null || true
  for i in $(seq 1 100); do alive "$pid" || break; sleep 0.05; done
  if alive "$pid"; then kill -KILL "$pid"; echo "emulator $pid ignored SIGTERM" >&2; fi
  wait "$pid" || rc=$?
  return "$rc"
}

# check_stop_emulator DESCRIPTION: the emulator must exit 0 on SIGTERM (a clean stop).
check_stop_emulator() {
  local rc=0
  stop_emulator || rc=$?
  check_eq "$1" "exit 0" "exit $rc"
}

# --- end --------------------------------------------------------------------------------------

e2e_cleanup() {
  local rc=$? pid
  trap - EXIT
  for pid in "${E2E_EMULATORS[@]}"; do alive "$pid" && kill -TERM "$pid" 2>/dev/null; done
  for pid in "${E2E_EMULATORS[@]}"; do wait "$pid" 2>/dev/null || true; done
  stop_pcscd
  if [ "$rc" -ne 0 ] || [ "$E2E_FAILED" -ne 0 ]; then
    echo "--- $E2E_NAME: logs kept in $E2E_DIR; last pcscd lines:"
    tail -n 25 "$E2E_DIR/pcscd.log" 2>/dev/null || true
    [ "$rc" -ne 0 ] || rc=1
  else
    rm -rf "$E2E_DIR"
  fi
  echo "$E2E_NAME: $E2E_PASSED checks passed, $E2E_FAILED failed"
  exit "$rc"
}
trap e2e_cleanup EXIT
