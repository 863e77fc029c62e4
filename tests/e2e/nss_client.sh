#!/usr/bin/env bash
# NSS with our PKCS#11 module, the card served through pcscd + vpcd:
#   modutil -add (the module in an NSS database) and -list (its token);
#   certutil -L -h all lists BOTH certificates of the card (authentication and signature), and
#   the one NSS reads is the fixture's; certutil -K lists the two private keys after login;
#   tstclnt does TLS client authentication: CPS4 -> TLS 1.3 + rsa_pss_rsae_sha256;
#   CPS3 -> TLS 1.2 + rsa_pkcs1_sha256, and the honest failure against a TLS-1.3-only server.
# CPSCARD_CLIENT_MODULE=opensc runs the CPS3 part with OpenSC's module (harness check).
E2E_HOME=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
source "$E2E_HOME/lib.sh"
source "$E2E_HOME/clients/harness.sh"
need pcscd:pcscd pkcs11-tool:opensc openssl:openssl stdbuf:coreutils \
  modutil:libnss3-tools certutil:libnss3-tools tstclnt:libnss3-tools
build_cps_tool
use_module
make_server_pki
srv_start tls12 -no_tls1_3
srv_start tls13 -tls1_3
srv_start any
AUTH_LABEL="Certificat d'Authentification CPS"    # objects.md §3
SIGN_LABEL="Certificat de Signature CPS"

# tstclnt SERVER NICKNAME: one HTTPS request with the card's certificate, PIN from a file
tstclnt_to() {
  timeout -k 5 60 tstclnt -h 127.0.0.1 -p "${SRV_PORT[$1]}" -d "sql:$DB" -n "$2" -W "$E2E_DIR/pin.txt" \
    -V tls1.2:tls1.3 -A "$E2E_DIR/request.txt" >"$E2E_DIR/tstclnt-$1.out" 2>&1
}

nss_card() {
  local gen=$1 token out label
  use_card "$gen" pcsc
  token=$(token_label)
  [ -n "$token" ] || { fail "$gen: a token with a PIN in the slot list of $MODULE_KIND"; card_pull; return; }
  DB="$E2E_DIR/nssdb-$gen"; mkdir -p "$DB"
  printf '%s\n' "$PIN" > "$E2E_DIR/pin.txt"
  certutil -N -d "sql:$DB" --empty-password
  certutil -A -d "sql:$DB" -n "test server CA" -t "CT,C,C" -i "$SERVER_CA"
  check "$gen: modutil -add loads the module" \
    timeout 60 modutil -dbdir "sql:$DB" -add cpscard -libfile "$MODULE" -force
  out=$(timeout 60 modutil -dbdir "sql:$DB" -list 2>&1) || true
  check_contains "$gen: modutil -list shows the module" "$MODULE" "$out"
  check_contains "$gen: modutil -list shows the card's token" "token: $token" "$out"

  out=$(timeout 60 certutil -L -d "sql:$DB" -h all 2>&1) || true
  check_contains "$gen: certutil -L -h all lists the authentication certificate" "$token:$AUTH_LABEL" "$out"
  check_contains "$gen: certutil -L -h all lists the signature certificate" "$token:$SIGN_LABEL" "$out"
  # (-n needs -h TOKEN and the PIN file: certutil logs in before looking a nickname up)
  local what
  for what in auth sign; do
    [ $what = auth ] && label=$AUTH_LABEL || label=$SIGN_LABEL
    timeout 60 certutil -L -d "sql:$DB" -h "$token" -f "$E2E_DIR/pin.txt" -n "$token:$label" -r \
      </dev/null 2>/dev/null | openssl x509 -inform der -outform der -out "$E2E_DIR/$what-nss-$gen.der" 2>/dev/null || true
    openssl x509 -in "$FIX/$what.pem" -outform der -out "$E2E_DIR/$what-fixture-$gen.der"
    check "$gen: the certificate '$label' NSS reads is the fixture's" \
      cmp "$E2E_DIR/$what-fixture-$gen.der" "$E2E_DIR/$what-nss-$gen.der"
  done
  out=$(timeout 60 certutil -K -d "sql:$DB" -h "$token" -f "$E2E_DIR/pin.txt" 2>&1) || true
  check_eq "$gen: certutil -K (after login) lists the two private keys" 2 "$(grep -c '^<' <<<"$out" || true)"

  if [ "$gen" = cps4 ]; then
    srv_mark any; tstclnt_to any "$token:$AUTH_LABEL" || true
    check_in_file "tstclnt, CPS4: the page shows the holder's certificate" "CN=$HOLDER_CN" "$E2E_DIR/tstclnt-any.out"
    check_server_saw "tstclnt, CPS4, TLS 1.2+1.3 server" any TLSv1.3 rsa_pss_rsae_sha256
  else
    srv_mark tls12; tstclnt_to tls12 "$token:$AUTH_LABEL" || true
    check_in_file "tstclnt, CPS3: the page shows the holder's certificate" "CN=$HOLDER_CN" "$E2E_DIR/tstclnt-tls12.out"
    check_server_saw "tstclnt, CPS3, TLS 1.2 server" tls12 TLSv1.2 rsa_pkcs1_sha256
    srv_mark tls13
    check_fails "tstclnt, CPS3, TLS-1.3-only server: fails" tstclnt_to tls13 "$token:$AUTH_LABEL"
    check_server_refused "tstclnt, CPS3, TLS-1.3-only server (no PSS on a CPS3)" tls13 TLSv1.3 "certificate_required(116)"
  fi
  card_pull
}

case "$MODULE_KIND" in
  opensc) nss_card cps3 ;;
  *) nss_card cps4; nss_card cps3 ;;
esac
