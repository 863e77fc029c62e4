#!/usr/bin/env bash
# Firefox ESR headless with our PKCS#11 module and its in-process emulated card
# (CPSCARD_EMULATED, no pcscd; PC/SC readers hidden with CPSCARD_PCSC=0), the module loaded by
# enterprise policy. The PIN paths are the other way round from firefox_pcsc.sh:
#   CPS4: PIN given by the application (Firefox's NSS, PK11_CheckUserPassword through
#         Marionette); TLS 1.2+1.3 server -> TLS 1.3 + rsa_pss_rsae_sha256, the holder's page.
#   CPS3: PIN by the module's pinentry program (protected authentication path: no Firefox
#         dialog); TLS 1.2 server -> rsa_pkcs1_sha256; TLS-1.3-only server -> the honest failure
#         (an empty Certificate, alert certificate_required: no PSS on a CPS3).
E2E_HOME=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
source "$E2E_HOME/lib.sh"
source "$E2E_HOME/clients/harness.sh"
source "$E2E_HOME/clients/firefox.sh"
need openssl:openssl stdbuf:coreutils pkcs11-tool:opensc
ff_need
use_module cpscard
export CPSCARD_PCSC=0
make_server_pki
srv_start tls12 -no_tls1_3
srv_start tls13 -tls1_3
srv_start any

cps4_app_login() {
  use_card cps4 emulated
  EXPECT_PAGE=("Client certificate" "CN=$HOLDER_CN" "$AUTH_SERIAL")
  local token; token=$(token_label)
  [ -n "$token" ] || { fail "CPS4 (emulated): a token in our module's slot list"; return; }
  ff_start cps4
  check_firefox_state "$token"
  ff_login "$token"
  check_eq "CPS4: application login (PK11_CheckUserPassword) logs the token in" True "$(ff_get 'r["ok"]')"
  ff_navigate "$(srv_url any ?cps4-1)" "${EXPECT_PAGE[@]}"; check_page "CPS4 (emulated), TLS 1.2+1.3 server"
  check_server_saw "CPS4 (emulated), TLS 1.2+1.3 server" any TLSv1.3 rsa_pss_rsae_sha256
  ff_stop
}

cps3_pinentry() {
  use_card cps3 emulated
  use_pinentry
  EXPECT_PAGE=("Client certificate" "CN=$HOLDER_CN" "$AUTH_SERIAL")
  local token; token=$(token_label)
  [ -n "$token" ] || { fail "CPS3 (emulated): a token in our module's slot list"; no_pinentry; return; }
  ff_start cps3
  check_firefox_state "$token"
  ff_navigate "$(srv_url tls12 ?cps3-1)" "${EXPECT_PAGE[@]}"; check_page "CPS3 (emulated), TLS 1.2 server, PIN by pinentry"
  check_server_saw "CPS3 (emulated), TLS 1.2 server" tls12 TLSv1.2 rsa_pkcs1_sha256
  check_eq "CPS3: the pinentry program was asked once (Firefox showed no PIN dialog)" 1 "$(pinentry_asked)"
  ff_navigate "$(srv_url tls13 ?cps3-2)" "${EXPECT_PAGE[@]}"; check_error_page "CPS3 (emulated), TLS-1.3-only server"
  check_server_refused "CPS3 (emulated), TLS-1.3-only server (no PSS on a CPS3)" tls13 TLSv1.3 "certificate_required(116)"
  ff_stop
  no_pinentry
}

cps4_app_login
cps3_pinentry
