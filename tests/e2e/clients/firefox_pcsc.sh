#!/usr/bin/env bash
# Firefox ESR headless doing TLS client authentication with the emulated card served through
# pcscd + vpcd (`cps-tool emulate`), our PKCS#11 module loaded by enterprise policy.
#
#   CPS4: a server allowing TLS 1.3 sees TLS 1.3 + rsa_pss_rsae_sha256 and the holder's
#         authentication certificate; the PIN comes from the pinentry program the module runs
#         (CPSCARD_PINENTRY, protected authentication path: Firefox asks nothing itself);
#         card pulled -> the next connection fails cleanly; reinserted -> works again.
#   CPS3: PIN given by the application (Firefox's NSS, PK11_CheckUserPassword through
#         Marionette); a TLS 1.2 server sees rsa_pkcs1_sha256; a TLS-1.3-only server gets the
#         honest failure (no PSS on a CPS3: an empty Certificate, alert certificate_required);
#         pulled / reinserted as above.
# CPSCARD_CLIENT_MODULE=opensc runs the CPS3 part with OpenSC's module instead (harness check).
E2E_HOME=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd); [ -d "$E2E_HOME/clients" ] || E2E_HOME=${E2E_HOME%/clients}
source "$E2E_HOME/lib.sh"
source "$E2E_HOME/clients/harness.sh"
source "$E2E_HOME/clients/firefox.sh"
need pcscd:pcscd pkcs11-tool:opensc openssl:openssl stdbuf:coreutils
ff_need
build_cps_tool
use_module
make_server_pki
srv_start tls12 -no_tls1_3     # a TLS-1.2 server (what a CPS3 needs)
srv_start tls13 -tls1_3        # TLS 1.3 only
srv_start any                  # TLS 1.2 and 1.3: the client's choice

# Firefox's view: policies applied, our module loaded, the card's token visible.
check_firefox_state() {
  local token=$1
  if ff_cmd '{"cmd": "info"}'; then
    check_eq "firefox: enterprise policies active" True "$(ff_get 'r["info"]["policies_active"]')"
    check_eq "firefox: security.default_personal_cert by policy, locked" "Select Automatically True" \
      "$(ff_get 'r["info"]["default_personal_cert"] + " " + str(r["info"]["default_personal_cert_locked"])')"
    check_contains "firefox: module loaded by the SecurityDevices policy, token '$token' visible" \
      "'$token'" "$(ff_get '[m for m in r["info"]["modules"] if m["name"] == "cpscard"]')"
  else
    fail "firefox: info" "$FF_REPLY"
  fi
}

# check_page DESC: the last navigation loaded the server's page showing the holder's certificate
check_page() {
  if [ "$(ff_get 'r["ok"]')" = True ] && [ "$(ff_get 'all(r["contains"].values())')" = True ]; then
    pass "$1: the page shows the holder ($HOLDER_CN) ($(ff_get 'r["secs"]') s)"
  else
    fail "$1: page" "$FF_REPLY"
  fi
}

# check_error_page DESC: the last navigation ended on Firefox's error page, promptly, no hang
check_error_page() {
  if [ "$(ff_get 'r["ok"]')" = False ] && [ "$(ff_get 'r["hung"]')" = False ] \
     && [[ $(ff_get 'r["error"]') == *about:neterror* ]]; then
    pass "$1: error page $(ff_get 'r["error"].split("about:neterror?e=")[1].split("&")[0]') ($(ff_get 'r["secs"]') s, no hang)"
  else
    fail "$1: wanted Firefox's error page, no hang" "$FF_REPLY"
  fi
}

cps3_app_login() {
  use_card cps3 pcsc
  EXPECT_PAGE=("Client certificate" "CN=$HOLDER_CN" "$AUTH_SERIAL")
  local token; token=$(token_label)
  [ -n "$token" ] || { fail "a token with a PIN in $MODULE_KIND's slot list"; return; }
  ff_start cps3
  check_firefox_state "$token"
  ff_cmd "{\"cmd\": \"login\", \"token\": \"$token\", \"pin\": \"$PIN\"}" || true
  check_eq "CPS3: application login (PK11_CheckUserPassword) logs the token in" True "$(ff_get 'r["ok"]')"
  ff_navigate "$(srv_url tls12 ?cps3-1)" "${EXPECT_PAGE[@]}"; check_page "CPS3, TLS 1.2 server"
  check_server_saw "CPS3, TLS 1.2 server" tls12 TLSv1.2 rsa_pkcs1_sha256
  ff_navigate "$(srv_url tls13 ?cps3-2)" "${EXPECT_PAGE[@]}"; check_error_page "CPS3, TLS-1.3-only server"
  check_server_refused "CPS3, TLS-1.3-only server (no PSS on a CPS3)" tls13 TLSv1.3 "certificate_required(116)"
  card_pull
  ff_navigate "$(srv_url tls12 ?cps3-3)" "${EXPECT_PAGE[@]}"; check_error_page "CPS3 pulled out"
  check_server_refused "CPS3 pulled out" tls12 TLSv1.2 "handshake_failure(40)"
  card_insert
  ff_cmd "{\"cmd\": \"login\", \"token\": \"$token\", \"pin\": \"$PIN\"}" || true
  check_eq "CPS3 reinserted: application login again" True "$(ff_get 'r["ok"]')"
  ff_navigate "$(srv_url tls12 ?cps3-4)" "${EXPECT_PAGE[@]}"; check_page "CPS3 reinserted, TLS 1.2 server"
  check_server_saw "CPS3 reinserted, TLS 1.2 server" tls12 TLSv1.2 rsa_pkcs1_sha256
  ff_stop
  card_pull
}

cps3_app_login
