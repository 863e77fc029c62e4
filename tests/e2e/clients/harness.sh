# The real-client harness (source it after tests/e2e/lib.sh; bash only).
#
#   packages   need TOOL:PACKAGE...  installs what is missing (apt-get as root, sudo otherwise),
#              then fails loudly if a tool is still missing
#   module     use_module cpscard|opensc  sets MODULE (the PKCS#11 library under test);
#              default $CPSCARD_CLIENT_MODULE or cpscard (our target/debug/libcps_pkcs11.so)
#   card       use_card cps3|cps4 pcsc|emulated  serves the fixture card `fixtures/cards/GEN/cps`
#              (pcsc: pcscd + vpcd + `cps-tool emulate`; emulated: CPSCARD_EMULATED in-process)
#              and sets FIX, PIN, AUTH_ID, SIGN_ID, AUTH_SERIAL, SIGN_SERIAL, HOLDER_CN
#   servers    srv_start NAME [s_server args]  an `openssl s_server` REQUIRING a client certificate
#              from the fixtures' CA (fixtures/pki/chain.pem), `-trace` to its log;
#              srv_mark NAME, then check_server_saw / check_server_refused look at the handshakes
#              the SERVER saw since the mark and print version, signature scheme and certificate
#   firefox    clients/firefox.sh (sourced separately)
#
# Everything started here is stopped on exit, before lib.sh's own clean-up.

CLIENTS_HERE="$E2E_ROOT/tests/e2e/clients"
PY3=/usr/bin/python3
OPENSC_P11=${OPENSC_P11:-/usr/lib/x86_64-linux-gnu/opensc-pkcs11.so}
CPS_P11=${CPS_P11:-${CARGO_TARGET_DIR:-$E2E_ROOT/target}/debug/libcps_pkcs11.so}
CLIENT_CA="$E2E_ROOT/fixtures/pki/chain.pem"   # issuer chain of the card certificates
CLIENTS_PIDS=()                                # background processes of ours (killed on exit)

# --- packages -------------------------------------------------------------------------------

# need TOOL:PACKAGE ...  (TOOL may be an absolute path, e.g. a library file)
need() {
  local spec tool pkg missing_pkgs="" still=""
  for spec in "$@"; do
    tool=${spec%%:*}; pkg=${spec#*:}
    have_tool "$tool" || missing_pkgs="$missing_pkgs $pkg"
  done
  if [ -n "$missing_pkgs" ]; then
    log "installing:$missing_pkgs"
    # shellcheck disable=SC2086
    $SUDO env DEBIAN_FRONTEND=noninteractive apt-get -qq -y -o DPkg::Lock::Timeout=600 \
      install --no-install-recommends $missing_pkgs >"$E2E_DIR/apt.log" 2>&1 \
      || { $SUDO env DEBIAN_FRONTEND=noninteractive apt-get -qq -o DPkg::Lock::Timeout=600 update \
             >>"$E2E_DIR/apt.log" 2>&1
           # shellcheck disable=SC2086
           $SUDO env DEBIAN_FRONTEND=noninteractive apt-get -qq -y -o DPkg::Lock::Timeout=600 \
             install --no-install-recommends $missing_pkgs >>"$E2E_DIR/apt.log" 2>&1; } || true
  fi
  for spec in "$@"; do
    tool=${spec%%:*}; pkg=${spec#*:}
    have_tool "$tool" || still="$still $tool($pkg)"
  done
  if [ -n "$still" ]; then
    echo "FAIL - missing:$still (apt-get install failed, see $E2E_DIR/apt.log)" >&2
    exit 1
  fi
}
have_tool() { if [[ $1 == /* ]]; then [ -e "$1" ]; else command -v "$1" >/dev/null 2>&1; fi; }

# --- the module under test --------------------------------------------------------------------

use_module() {
  MODULE_KIND=${1:-${CPSCARD_CLIENT_MODULE:-cpscard}}
  case "$MODULE_KIND" in
    cpscard)
      if [ -z "${CPSCARD_E2E_NO_BUILD:-}" ] || [ ! -e "$CPS_P11" ]; then
        (cd "$E2E_ROOT" && cargo build -q -p cps-pkcs11) \
          || { echo "FAIL - cannot build the PKCS#11 module" >&2; exit 1; }
      fi
      MODULE=$CPS_P11 ;;
    opensc)
      need "$OPENSC_P11:opensc-pkcs11"
      MODULE=$OPENSC_P11 ;;
    *) echo "FAIL - unknown module '$MODULE_KIND' (cpscard|opensc)" >&2; exit 1 ;;
  esac
  [ -r "$MODULE" ] || { echo "FAIL - no PKCS#11 module at $MODULE" >&2; exit 1; }
  log "module under test: $MODULE_KIND ($MODULE)"
}

# The label of the token holding the card's PIN (OpenSC also shows a PIN-less second token).
token_label() {
  pkcs11-tool --module "$MODULE" -L 2>/dev/null | awk -F': ' '
    /token label/ { sub(/[ ]+$/, "", $2); label = $2 }
    /token flags/ && /login required/ && label != "" { print label; exit }'
}

# pkcs11: URI percent-encoding (RFC 7512: everything but unreserved characters).
uri_enc() {
  local s=$1 i c out=""
  for ((i = 0; i < ${#s}; i++)); do
    c=${s:i:1}
    case "$c" in [A-Za-z0-9._~-]) out+=$c ;; *) out+=$(printf '%%%02X' "'$c") ;; esac
  done
  printf '%s' "$out"
}
hex_to_uri() { printf '%s' "$1" | tr 'a-f' 'A-F' | sed 's/../%&/g'; }   # CKA_ID hex -> %E8%28...

# check_in_file DESC NEEDLE FILE: like check_contains, but a failure shows the file's head only
check_in_file() {
  if grep -qF -- "$2" "$3" 2>/dev/null; then pass "$1"
  else fail "$1" "missing: $2"$'\n'"in $3:"$'\n'"$(head -n 15 "$3" 2>/dev/null)"; fi
}

# --- the card -----------------------------------------------------------------------------------

# use_card GEN MODE
use_card() {
  CARD_GEN=$1; CARD_MODE=$2
  FIX="$E2E_ROOT/fixtures/cards/$CARD_GEN/cps"
  [ -r "$FIX/card.json" ] || { echo "FAIL - fixture $FIX missing" >&2; exit 1; }
  PIN=$("$PY3" -c 'import json,sys; print(json.load(open(sys.argv[1]))["pin"])' "$FIX/card.json")
  HOLDER_CN=$("$PY3" -c 'import json,sys; print(json.load(open(sys.argv[1]))["holder"]["id_nat"])' "$FIX/card.json")
  case "$CARD_GEN" in   # objects.md §4.1
    cps3) AUTH_ID=e828bd080f8025000001ff001002; SIGN_ID=e828bd080f8025000001ff001001 ;;
    cps4) AUTH_ID=e828bd080f8025000001ff001020; SIGN_ID=e828bd080f8025000001ff001010 ;;
    *) echo "FAIL - unknown card generation $CARD_GEN" >&2; exit 1 ;;
  esac
  AUTH_SERIAL=$(cert_serial "$FIX/auth.pem"); SIGN_SERIAL=$(cert_serial "$FIX/sign.pem")
  CARD_IMAGE="$E2E_DIR/$CARD_GEN.json"
  case "$CARD_MODE" in
    pcsc)
      unset CPSCARD_EMULATED
      [ -n "${PCSCLITE_CSOCK_NAME:-}" ] || start_pcscd
      card_insert ;;
    emulated)
      export CPSCARD_EMULATED="$CARD_GEN:$CARD_IMAGE" ;;
    *) echo "FAIL - unknown card mode $CARD_MODE (pcsc|emulated)" >&2; exit 1 ;;
  esac
  log "card: $CARD_GEN ($CARD_MODE), holder $HOLDER_CN, auth certificate serial $AUTH_SERIAL"
}
# The card image keeps the PIN counter and written data across a pull and a reinsertion.
card_insert() { start_emulator --card "$CARD_GEN" --image "$CARD_IMAGE"; CARD_EMU=$EMU_PID; }
card_pull() { stop_emulator "$CARD_EMU" || true; wait_card absent || true; }

# serial as `openssl x509 -text` / s_server -trace print it: lowercase, colon-separated
cert_serial() {
  openssl x509 -in "$1" -noout -serial | sed 's/^serial=//' | tr 'A-F' 'a-f' | sed 's/../&:/g; s/:$//'
}

# --- PKI of the test servers -----------------------------------------------------------------

# A throw-away CA and a server certificate for localhost / 127.0.0.1 (the fixtures have no server).
make_server_pki() {
  local d="$E2E_DIR/pki"
  mkdir -p "$d"
  openssl req -x509 -newkey rsa:2048 -nodes -keyout "$d/ca.key" -out "$d/ca.pem" -days 2 \
    -subj "/O=cpscard tests/CN=cpscard e2e server CA" \
    -addext "basicConstraints=critical,CA:TRUE" -addext "keyUsage=critical,keyCertSign" 2>/dev/null
  printf '%s\n' "basicConstraints=CA:FALSE" "keyUsage=critical,digitalSignature,keyEncipherment" \
    "extendedKeyUsage=serverAuth" "subjectAltName=DNS:localhost,IP:127.0.0.1" > "$d/server.ext"
  openssl req -newkey rsa:2048 -nodes -keyout "$d/server.key" -out "$d/server.csr" \
    -subj "/O=cpscard tests/CN=localhost" 2>/dev/null
  openssl x509 -req -in "$d/server.csr" -CA "$d/ca.pem" -CAkey "$d/ca.key" -CAcreateserial -days 2 \
    -extfile "$d/server.ext" -out "$d/server.pem" 2>/dev/null
  SERVER_CA="$d/ca.pem"
  printf 'GET / HTTP/1.0\r\n\r\n' > "$E2E_DIR/request.txt"
}

# --- test servers -------------------------------------------------------------------------------

declare -A SRV_PID SRV_PORT SRV_MARK

# srv_start NAME [s_server args, e.g. -no_tls1_3 or -tls1_3]
# No session tickets, no session cache: every connection is a full handshake with a signature.
srv_start() {
  local name=$1 port i try pid; shift
  [ -n "${SERVER_CA:-}" ] || make_server_pki
  for try in 1 2 3 4 5; do   # another test on the machine may take the port first: try another
    port=$(free_port_pair) || { echo "FAIL - no free port for server $name" >&2; exit 1; }
    stdbuf -o0 openssl s_server -accept "127.0.0.1:$port" -cert "$E2E_DIR/pki/server.pem" \
      -key "$E2E_DIR/pki/server.key" -CAfile "$CLIENT_CA" -Verify 2 -verify_return_error \
      -www -trace -num_tickets 0 -no_cache "$@" </dev/null >"$E2E_DIR/server-$name.log" 2>&1 &
    pid=$!
    SRV_PID[$name]=$pid; SRV_PORT[$name]=$port; SRV_MARK[$name]=0
    CLIENTS_PIDS+=("$pid")
    for i in $(seq 1 200); do
      listening_ports | grep -qx "$port" && return 0
      alive "$pid" || break
      sleep 0.05
    done
    kill "$pid" 2>/dev/null || true; wait "$pid" 2>/dev/null || true
    log "server $name: port $port unusable (try $try)"
  done
  echo "FAIL - server $name did not start" >&2; cat "$E2E_DIR/server-$name.log" >&2; exit 1
}
srv_url() { echo "https://localhost:${SRV_PORT[$1]}/${2:-}"; }
srv_stop() { local p=${SRV_PID[$1]:-}; [ -z "$p" ] || { kill "$p" 2>/dev/null || true; wait "$p" 2>/dev/null || true; }; SRV_PID[$1]=""; }
# srv_handshakes NAME: the handshakes since the mark, once the log is quiet (a client may retry a
# failed connection some hundred milliseconds later: that retry belongs to this check)
srv_handshakes() {
  local i size last=-1
  for i in $(seq 1 20); do
    size=$(stat -c %s "$E2E_DIR/server-$1.log")
    [ "$size" = "$last" ] && break
    last=$size; sleep 0.3
  done
  "$PY3" "$CLIENTS_HERE/tls_trace.py" "$E2E_DIR/server-$1.log" "${SRV_MARK[$1]}"
}
# srv_mark NAME: from now on, only new handshakes count
srv_mark() { SRV_MARK[$1]=$("$PY3" "$CLIENTS_HERE/tls_trace.py" "$E2E_DIR/server-$1.log" | wc -l); }

# The server also sees connections that are not the client's authentication attempt: Firefox drops
# its first connection to a server asking for a certificate and reconnects, and its anonymous
# requests (speculative connections, site icons) answer a certificate request with no certificate.
# So a success is: at least one signed handshake, and every signed one as expected; a refusal is:
# handshakes that reached the certificate request, none of them signed.

# check_server_saw DESC NAME VERSION SCHEME [SERIAL]: the server saw the client sign its
# CertificateVerify in SCHEME under VERSION with the card certificate SERIAL (default: the
# authentication certificate), and never anything else signed. Prints what it saw.
check_server_saw() {
  local desc=$1 name=$2 version=$3 scheme=$4 serial=${5:-$AUTH_SERIAL} seen signed bad
  seen=$(srv_handshakes "$name")
  printf '%s\n' "${seen:-no handshake}" | sed "s/ subject=.*//; s/^/       server $name saw: /"
  signed=$(grep -v ' scheme=- ' <<<"$seen" || true)
  bad=$(awk -v v="$version" -v s="$scheme" -v n="$serial" '
    !($2 == "version=" v && $3 == "scheme=" s && $4 == "cert=present" && $5 == "serial=" n)' <<<"$signed")
  if [ -n "$signed" ] && [ -z "$bad" ]; then
    pass "$desc: server saw $version, $scheme, certificate $serial"
  else
    fail "$desc: the server did not see $version + $scheme + certificate $serial" "${seen:-no handshake at all}"
  fi
  srv_mark "$name"
}

# check_server_refused DESC NAME VERSION ALERT: the client answered the certificate request with
# NO certificate (honest failure, e.g. no PSS for TLS 1.3): nothing signed, the server sent ALERT.
check_server_refused() {
  local desc=$1 name=$2 version=$3 alert=$4 seen attempts bad
  seen=$(srv_handshakes "$name")
  printf '%s\n' "${seen:-no handshake}" | sed "s/ subject=.*//; s/^/       server $name saw: /"
  attempts=$(grep -v ' cert=- ' <<<"$seen" || true)
  bad=$(awk -v v="$version" -v a="$alert" '
    !($2 == "version=" v && $3 == "scheme=-" && $4 == "cert=empty" && $6 == "alert=" a)' <<<"$attempts")
  if [ -n "$attempts" ] && [ -z "$bad" ]; then
    pass "$desc: server saw $version, an empty client Certificate, sent $alert"
  else
    fail "$desc: wanted $version + empty Certificate + $alert" "${seen:-no handshake at all}"
  fi
  srv_mark "$name"
}

# check_server_unsigned DESC NAME VERSION: the server saw handshakes in VERSION that reached the
# client certificate but never a CertificateVerify (the client could not sign and gave up).
check_server_unsigned() {
  local desc=$1 name=$2 version=$3 seen attempts bad
  seen=$(srv_handshakes "$name")
  printf '%s\n' "${seen:-no handshake}" | sed "s/ subject=.*//; s/^/       server $name saw: /"
  attempts=$(grep -v ' cert=- ' <<<"$seen" || true)
  bad=$(awk -v v="$version" '!($2 == "version=" v && $3 == "scheme=-")' <<<"$attempts")
  if [ -n "$attempts" ] && [ -z "$bad" ]; then
    pass "$desc: server saw $version and no CertificateVerify"
  else
    fail "$desc: wanted $version without a CertificateVerify" "${seen:-no handshake at all}"
  fi
  srv_mark "$name"
}

# --- clean-up ---------------------------------------------------------------------------------

clients_cleanup() {
  local rc=$? p
  for p in "${CLIENTS_PIDS[@]}"; do
    if alive "$p"; then kill -TERM -- "-$p" 2>/dev/null || kill -TERM "$p" 2>/dev/null || true; fi
  done
  for p in "${CLIENTS_PIDS[@]}"; do wait "$p" 2>/dev/null || true; done
  (exit "$rc")
  e2e_cleanup
}
trap clients_cleanup EXIT

# --- PIN by pinentry -------------------------------------------------------------------------

# use_pinentry: our module asks its PINs from the scripted pinentry (clients/pinentry-scripted)
# — the protected authentication path: applications such as Firefox call C_Login(NULL) and
# never ask themselves. pinentry_asked counts the PIN requests it answered.
use_pinentry() {
  export CPSCARD_PINENTRY="$CLIENTS_HERE/pinentry-scripted"
  export E2E_PINENTRY_PIN=$PIN E2E_PINENTRY_LOG="$E2E_DIR/pinentry.log"
  export E2E_PINENTRY_DELAY=${E2E_PINENTRY_DELAY:-1}
  : > "$E2E_PINENTRY_LOG"
}
no_pinentry() { unset CPSCARD_PINENTRY E2E_PINENTRY_PIN E2E_PINENTRY_LOG; }
pinentry_asked() { grep -c '< GETPIN' "$E2E_DIR/pinentry.log" 2>/dev/null || true; }
