#!/usr/bin/env bash
# p11-kit: a `.module` file makes our PKCS#11 module visible to every p11-kit-aware program,
# without naming the library to them. The card is served through pcscd + vpcd.
#   p11-kit list-modules shows the module and the card's token;
#   p11tool --list-tokens (GnuTLS through p11-kit, no --provider) shows the token;
#   pkcs11-tool through p11-kit-proxy.so lists the token;
#   gnutls-cli with pkcs11: URIs and no --provider authenticates: CPS4 -> TLS 1.3 +
#   rsa_pss_rsae_sha256 (CPS3 with CPSCARD_CLIENT_MODULE=opensc -> TLS 1.2 + rsa_pkcs1_sha256).
# The module file goes to a private copy of the system module directory: p11-kit runs in a
# mount namespace where /usr/share/p11-kit/modules is a temporary directory holding only ours
# (as root, p11-kit ignores ~/.config/pkcs11/modules), so the machine's configuration is untouched.
E2E_HOME=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
source "$E2E_HOME/lib.sh"
source "$E2E_HOME/clients/harness.sh"
PROXY=/usr/lib/x86_64-linux-gnu/p11-kit-proxy.so
P11KIT_SYSTEM_DIR=/usr/share/p11-kit/modules
need pcscd:pcscd pkcs11-tool:opensc openssl:openssl stdbuf:coreutils unshare:util-linux \
  p11-kit:p11-kit "$PROXY:p11-kit-modules" p11tool:gnutls-bin gnutls-cli:gnutls-bin
build_cps_tool
use_module
make_server_pki
srv_start tls12 -no_tls1_3
srv_start any

MODDIR="$E2E_DIR/p11-kit-modules"
mkdir -p "$MODDIR"
cat > "$MODDIR/cpscard.module" <<EOF
# what \`cps-tool register\` writes (p11-kit(8) pkcs11.conf(5))
module: $MODULE
critical: no
EOF
# in_p11kit CMD...: CMD sees only our module file in p11-kit's system directory
in_p11kit() {
  [ -d "$P11KIT_SYSTEM_DIR" ] || $SUDO mkdir -p "$P11KIT_SYSTEM_DIR"
  $SUDO env PCSCLITE_CSOCK_NAME="${PCSCLITE_CSOCK_NAME:-}" GNUTLS_PIN="$PIN" HOME="$E2E_DIR" \
    unshare --mount --propagation private \
    sh -c 'mount --bind "$1" "$2" && shift 2 && exec "$@"' sh "$MODDIR" "$P11KIT_SYSTEM_DIR" "$@"
}

p11kit_card() {
  local gen=$1 token out uri
  use_card "$gen" pcsc
  token=$(token_label)
  [ -n "$token" ] || { fail "$gen: a token with a PIN in the slot list of $MODULE_KIND"; card_pull; return; }
  out=$(in_p11kit timeout 60 p11-kit list-modules 2>&1) || true
  printf '%s\n' "$out" > "$E2E_DIR/list-modules-$gen.txt"
  check_in_file "$gen: p11-kit list-modules shows the module from its .module file" "cpscard: $MODULE" "$E2E_DIR/list-modules-$gen.txt"
  check_in_file "$gen: p11-kit list-modules shows the card's token" "token: $token" "$E2E_DIR/list-modules-$gen.txt"
  out=$(in_p11kit timeout 60 p11tool --list-tokens 2>&1) || true
  printf '%s\n' "$out" > "$E2E_DIR/p11tool-tokens-$gen.txt"
  check_in_file "$gen: p11tool --list-tokens (GnuTLS via p11-kit) shows the token" "token=$(uri_enc "$token")" "$E2E_DIR/p11tool-tokens-$gen.txt"
  out=$(in_p11kit timeout 60 pkcs11-tool --module "$PROXY" -L 2>&1) || true
  check_contains "$gen: pkcs11-tool through p11-kit-proxy.so lists the token" "token label        : $token" "$out"
  uri="pkcs11:token=$(uri_enc "$token");id=$(hex_to_uri "$AUTH_ID")"
  local srv=any version=TLSv1.3 scheme=rsa_pss_rsae_sha256
  [ "$gen" = cps3 ] && { srv=tls12; version=TLSv1.2; scheme=rsa_pkcs1_sha256; }
  srv_mark $srv
  in_p11kit timeout -k 5 60 gnutls-cli --x509cafile "$SERVER_CA" --x509certfile "$uri;type=cert" \
    --x509keyfile "$uri;type=private" -p "${SRV_PORT[$srv]}" localhost \
    <"$E2E_DIR/request.txt" >"$E2E_DIR/gnutls-p11kit-$gen.out" 2>&1 || true
  check_in_file "$gen: gnutls-cli, key found through p11-kit: the page shows the holder" "CN=$HOLDER_CN" "$E2E_DIR/gnutls-p11kit-$gen.out"
  check_server_saw "$gen: gnutls-cli through p11-kit" $srv $version $scheme
  card_pull
}

case "$MODULE_KIND" in
  opensc) p11kit_card cps3 ;;
  *) p11kit_card cps4 ;;
esac
