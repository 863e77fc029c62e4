#!/usr/bin/env bash
# OpenSSL 3 + the libp11 engine (libengine-pkcs11-openssl) with our PKCS#11 module, the card
# served through pcscd + vpcd: `openssl s_client -engine pkcs11 -keyform engine -key pkcs11:...`,
# the certificate read from the card.
#   CPS4 -> TLS 1.3 + rsa_pss_rsae_sha256.
#   CPS3 -> TLS 1.2 + rsa_pkcs1_sha256 once the client is told to sign PKCS#1 v1.5
#           (-sigalgs): OpenSSL cannot know the key cannot do PSS and would otherwise choose
#           rsa_pss_rsae_sha256 even in TLS 1.2; that choice, and TLS 1.3, fail (checked).
# CPSCARD_CLIENT_MODULE=opensc runs the CPS3 part with OpenSC's module (harness check).
E2E_HOME=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
source "$E2E_HOME/lib.sh"
source "$E2E_HOME/clients/harness.sh"
ENGINE=/usr/lib/x86_64-linux-gnu/engines-3/pkcs11.so
need pcscd:pcscd pkcs11-tool:opensc openssl:openssl stdbuf:coreutils "$ENGINE:libengine-pkcs11-openssl"
build_cps_tool
use_module
make_server_pki
srv_start tls12 -no_tls1_3
srv_start tls13 -tls1_3
srv_start any

cat > "$E2E_DIR/openssl-pkcs11.cnf" <<EOF
openssl_conf = openssl_init
[openssl_init]
engines = engine_section
[engine_section]
pkcs11 = pkcs11_section
[pkcs11_section]
engine_id = pkcs11
dynamic_path = $ENGINE
MODULE_PATH = $MODULE
init = 0
EOF

# s_client_to SERVER [s_client args]: one HTTPS request, the key on the card
s_client_to() {
  local srv=$1; shift
  OPENSSL_CONF="$E2E_DIR/openssl-pkcs11.cnf" timeout -k 5 60 openssl s_client \
    -connect "127.0.0.1:${SRV_PORT[$srv]}" -servername localhost -CAfile "$SERVER_CA" -verify_return_error \
    -engine pkcs11 -keyform engine -key "$KEY_URI;pin-value=$PIN" -cert "$E2E_DIR/card-auth-$CARD_GEN.pem" \
    -ign_eof "$@" <"$E2E_DIR/request.txt" >"$E2E_DIR/s_client-$srv.out" 2>&1
}
page_ok() { grep -q "CN=$HOLDER_CN" "$E2E_DIR/s_client-$1.out"; }

openssl_card() {
  local gen=$1 token
  use_card "$gen" pcsc
  token=$(token_label)
  [ -n "$token" ] || { fail "$gen: a token with a PIN in the slot list of $MODULE_KIND"; card_pull; return; }
  KEY_URI="pkcs11:token=$(uri_enc "$token");id=$(hex_to_uri "$AUTH_ID");type=private"
  # the client certificate comes from the card, not from the fixtures
  timeout 60 pkcs11-tool --module "$MODULE" --token-label "$token" --read-object --type cert \
    --id "$AUTH_ID" -o "$E2E_DIR/card-auth-$gen.der" >/dev/null 2>&1 || true
  openssl x509 -inform der -in "$E2E_DIR/card-auth-$gen.der" -out "$E2E_DIR/card-auth-$gen.pem" 2>/dev/null \
    || { fail "$gen: the authentication certificate read from the card"; card_pull; return; }
  if [ "$gen" = cps4 ]; then
    srv_mark any; s_client_to any || true
    check "s_client + libp11, CPS4: the page shows the holder's certificate" page_ok any
    check_server_saw "s_client + libp11, CPS4, TLS 1.2+1.3 server" any TLSv1.3 rsa_pss_rsae_sha256
  else
    srv_mark tls12; s_client_to tls12 -sigalgs "rsa_pkcs1_sha256:rsa_pkcs1_sha384:rsa_pkcs1_sha512" || true
    check "s_client + libp11, CPS3, -sigalgs rsa_pkcs1_*: the page shows the holder's certificate" page_ok tls12
    check_server_saw "s_client + libp11, CPS3, TLS 1.2 server, -sigalgs rsa_pkcs1_*" tls12 TLSv1.2 rsa_pkcs1_sha256
    srv_mark tls12
    check_fails "s_client + libp11, CPS3, TLS 1.2 server, default sigalgs: fails (OpenSSL picks PSS)" s_client_to tls12
    check_server_unsigned "s_client + libp11, CPS3, TLS 1.2 server, default sigalgs" tls12 TLSv1.2
    srv_mark tls13
    check_fails "s_client + libp11, CPS3, TLS-1.3-only server: fails (no PSS, no raw RSA on a CPS3)" s_client_to tls13
    check_server_unsigned "s_client + libp11, CPS3, TLS-1.3-only server" tls13 TLSv1.3
  fi
  card_pull
}

case "$MODULE_KIND" in
  opensc) openssl_card cps3 ;;
  *) openssl_card cps4; openssl_card cps3 ;;
esac
