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
E2E_HOME=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
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

# CPS4, PIN by the module's pinentry program (CPSCARD_PINENTRY): Firefox asks nothing.
cps4_pinentry() {
  use_card cps4 pcsc
  use_pinentry
  EXPECT_PAGE=("Client certificate" "CN=$HOLDER_CN" "$AUTH_SERIAL")
  local token asked; token=$(token_label)
  [ -n "$token" ] || { fail "CPS4: a token in the slot list of $MODULE_KIND"; card_pull; return; }
  ff_start cps4
  check_firefox_state "$token"
  ff_navigate "$(srv_url any ?cps4-1)" "${EXPECT_PAGE[@]}"; check_page "CPS4, TLS 1.2+1.3 server, PIN by pinentry"
  check_server_saw "CPS4, TLS 1.2+1.3 server" any TLSv1.3 rsa_pss_rsae_sha256
  check_eq "CPS4: the pinentry program was asked once (Firefox showed no PIN dialog)" 1 "$(pinentry_asked)"
  ff_navigate "$(srv_url any ?cps4-2)" "${EXPECT_PAGE[@]}"; check_page "CPS4, second connection"
  check_server_saw "CPS4, second connection (a new signature)" any TLSv1.3 rsa_pss_rsae_sha256
  check_eq "CPS4: still logged in, no second PIN request" 1 "$(pinentry_asked)"
  card_pull
  ff_navigate "$(srv_url any ?cps4-3)" "${EXPECT_PAGE[@]}"; check_error_page "CPS4 pulled out"
  check_server_refused "CPS4 pulled out" any TLSv1.3 "certificate_required(116)"
  card_insert
  # as a user would: wait until Firefox shows the card again (NSS re-checks a slot lazily)
  ff_cmd "$("$PY3" -c 'import json,sys; print(json.dumps({"cmd":"logged_in","token":sys.argv[1],"wait":10}))' "$token")" || true
  check_eq "CPS4 reinserted: Firefox sees the token again ($(ff_get 'r["secs"]') s), logged out" "True False" \
    "$(ff_get 'str(r["found"]) + " " + str(r.get("logged_in"))')"
  asked=$(pinentry_asked)
  ff_navigate "$(srv_url any ?cps4-4)" "${EXPECT_PAGE[@]}"; check_page "CPS4 reinserted"
  check_server_saw "CPS4 reinserted" any TLSv1.3 rsa_pss_rsae_sha256
  check_eq "CPS4 reinserted: the PIN asked again (a new card session)" $((asked + 1)) "$(pinentry_asked)"
  ff_stop
  no_pinentry
  card_pull
}

# CPS3, PIN given by the application (Firefox's NSS, PK11_CheckUserPassword).
cps3_app_login() {
  use_card cps3 pcsc
  EXPECT_PAGE=("Client certificate" "CN=$HOLDER_CN" "$AUTH_SERIAL")
  local token; token=$(token_label)
  [ -n "$token" ] || { fail "a token with a PIN in $MODULE_KIND's slot list"; return; }
  ff_start cps3
  check_firefox_state "$token"
  ff_login "$token"
  check_eq "CPS3: application login (PK11_CheckUserPassword) logs the token in" True "$(ff_get 'r["ok"]')"
  ff_navigate "$(srv_url tls12 ?cps3-1)" "${EXPECT_PAGE[@]}"; check_page "CPS3, TLS 1.2 server"
  check_server_saw "CPS3, TLS 1.2 server" tls12 TLSv1.2 rsa_pkcs1_sha256
  ff_navigate "$(srv_url tls13 ?cps3-2)" "${EXPECT_PAGE[@]}"; check_error_page "CPS3, TLS-1.3-only server"
  check_server_refused "CPS3, TLS-1.3-only server (no PSS on a CPS3)" tls13 TLSv1.3 "certificate_required(116)"
  card_pull
  ff_navigate "$(srv_url tls12 ?cps3-3)" "${EXPECT_PAGE[@]}"; check_error_page "CPS3 pulled out"
  check_server_refused "CPS3 pulled out" tls12 TLSv1.2 "handshake_failure(40)"
  card_insert
  ff_login "$token"
  check_eq "CPS3 reinserted: application login again" True "$(ff_get 'r["ok"]')"
  ff_navigate "$(srv_url tls12 ?cps3-4)" "${EXPECT_PAGE[@]}"; check_page "CPS3 reinserted, TLS 1.2 server"
  check_server_saw "CPS3 reinserted, TLS 1.2 server" tls12 TLSv1.2 rsa_pkcs1_sha256
  ff_stop
  card_pull
}

case "$MODULE_KIND" in
  opensc) cps3_app_login ;;              # OpenSC has neither CPS4 nor a pinentry
  *) cps4_pinentry; cps3_app_login ;;
esac
