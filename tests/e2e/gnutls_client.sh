#!/usr/bin/env bash
# GnuTLS with our PKCS#11 module, the card served through pcscd + vpcd:
#   p11tool --list-all (with --login) shows both certificates and both private keys by pkcs11: URI;
#   gnutls-cli with pkcs11: URIs for the certificate and the key does TLS client authentication:
#   CPS4 -> TLS 1.3 + rsa_pss_rsae_sha256; CPS3 -> TLS 1.2 + rsa_pkcs1_sha256, and the honest
#   failure against a TLS-1.3-only server (GnuTLS sends no certificate without PSS).
# CPSCARD_CLIENT_MODULE=opensc runs the CPS3 part with OpenSC's module (harness check).
E2E_HOME=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
source "$E2E_HOME/lib.sh"
source "$E2E_HOME/clients/harness.sh"
need pcscd:pcscd pkcs11-tool:opensc openssl:openssl stdbuf:coreutils p11tool:gnutls-bin gnutls-cli:gnutls-bin
build_cps_tool
use_module
make_server_pki
srv_start tls12 -no_tls1_3
srv_start tls13 -tls1_3
srv_start any

# gnutls_to SERVER URI: one HTTPS request, certificate and key from the card
gnutls_to() {
  GNUTLS_PIN=$PIN timeout -k 5 60 gnutls-cli --provider "$MODULE" --x509cafile "$SERVER_CA" \
    --x509certfile "$2;type=cert" --x509keyfile "$2;type=private" -p "${SRV_PORT[$1]}" localhost \
    <"$E2E_DIR/request.txt" >"$E2E_DIR/gnutls-$1.out" 2>&1
}

gnutls_card() {
  local gen=$1 token out uri
  use_card "$gen" pcsc
  token=$(token_label)
  [ -n "$token" ] || { fail "$gen: a token with a PIN in the slot list of $MODULE_KIND"; card_pull; return; }
  uri="pkcs11:token=$(uri_enc "$token");id=$(hex_to_uri "$AUTH_ID")"
  out=$(GNUTLS_PIN=$PIN timeout 60 p11tool --provider "$MODULE" --login --list-all "pkcs11:token=$(uri_enc "$token")" 2>&1) || true
  local list="$E2E_DIR/p11tool-$gen.txt"
  printf '%s\n' "$out" > "$list"
  check_in_file "$gen: p11tool --list-all: the authentication certificate" "id=$(hex_to_uri "$AUTH_ID");object=Certificat%20d%27Authentification%20CPS;type=cert" "$list"
  check_in_file "$gen: p11tool --list-all: the signature certificate" "id=$(hex_to_uri "$SIGN_ID");object=Certificat%20de%20Signature%20CPS;type=cert" "$list"
  check_in_file "$gen: p11tool --list-all: the authentication key" "id=$(hex_to_uri "$AUTH_ID");object=CPS_PRIV_AUT;type=private" "$list"
  check_in_file "$gen: p11tool --list-all: the signature key" "id=$(hex_to_uri "$SIGN_ID");object=CPS_PRIV_SIG;type=private" "$list"
  if [ "$gen" = cps4 ]; then
    srv_mark any; gnutls_to any "$uri" || true
    check_in_file "gnutls-cli, CPS4: the page shows the holder's certificate" "CN=$HOLDER_CN" "$E2E_DIR/gnutls-any.out"
    check_server_saw "gnutls-cli, CPS4, TLS 1.2+1.3 server" any TLSv1.3 rsa_pss_rsae_sha256
  else
    srv_mark tls12; gnutls_to tls12 "$uri" || true
    check_in_file "gnutls-cli, CPS3: the page shows the holder's certificate" "CN=$HOLDER_CN" "$E2E_DIR/gnutls-tls12.out"
    check_server_saw "gnutls-cli, CPS3, TLS 1.2 server" tls12 TLSv1.2 rsa_pkcs1_sha256
    srv_mark tls13
    check_fails "gnutls-cli, CPS3, TLS-1.3-only server: fails" gnutls_to tls13 "$uri"
    check_server_refused "gnutls-cli, CPS3, TLS-1.3-only server (no PSS on a CPS3)" tls13 TLSv1.3 "certificate_required(116)"
  fi
  card_pull
}

case "$MODULE_KIND" in
  opensc) gnutls_card cps3 ;;
  *) gnutls_card cps4; gnutls_card cps3 ;;
esac
