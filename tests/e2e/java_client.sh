#!/usr/bin/env bash
# Java 17 SunPKCS11 with our PKCS#11 module, the card served through pcscd + vpcd:
#   keytool -list (PKCS11 key store, provider config file) shows the card's two key entries;
#   a small Java program (clients/CardSign.java) signs with the authentication key and verifies
#   with the certificate: SHA256withRSA with both keys of both cards, RSASSA-PSS (SHA-256) with
#   the authentication key of a CPS4; on a CPS3 PSS must be refused (the card cannot do it).
# CPSCARD_CLIENT_MODULE=opensc runs the CPS3 part with OpenSC's module (harness check).
E2E_HOME=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
source "$E2E_HOME/lib.sh"
source "$E2E_HOME/clients/harness.sh"
need pcscd:pcscd pkcs11-tool:opensc java:openjdk-17-jre-headless keytool:openjdk-17-jre-headless \
  javac:openjdk-17-jdk-headless
build_cps_tool
use_module
AUTH_LABEL="Certificat d'Authentification CPS"    # objects.md §3
SIGN_LABEL="Certificat de Signature CPS"
mkdir -p "$E2E_DIR/java"
check "javac CardSign.java" javac -d "$E2E_DIR/java" "$CLIENTS_HERE/CardSign.java"
# keytool and the JVM load the module in-process: its PC/SC socket / emulated card come from env.
card_sign() { timeout -k 5 120 java -cp "$E2E_DIR/java" CardSign "$E2E_DIR/sunpkcs11.cfg" "$PIN" "$@"; }

java_card() {
  local gen=$1 out
  use_card "$gen" pcsc
  cat > "$E2E_DIR/sunpkcs11.cfg" <<EOF
name = cpscard
library = $MODULE
slotListIndex = 0
EOF
  out=$(timeout -k 5 120 keytool -list -keystore NONE -storetype PKCS11 \
    -providerClass sun.security.pkcs11.SunPKCS11 -providerArg "$E2E_DIR/sunpkcs11.cfg" -storepass "$PIN" 2>&1) || true
  printf '%s\n' "$out" > "$E2E_DIR/keytool-$gen.txt"
  check_in_file "$gen: keytool -list: the authentication key entry" "$AUTH_LABEL, PrivateKeyEntry" "$E2E_DIR/keytool-$gen.txt"
  check_in_file "$gen: keytool -list: the signature key entry" "$SIGN_LABEL, PrivateKeyEntry" "$E2E_DIR/keytool-$gen.txt"
  local serial what label
  for what in auth sign; do
    [ $what = auth ] && { label=$AUTH_LABEL; serial=$AUTH_SERIAL; } || { label=$SIGN_LABEL; serial=$SIGN_SERIAL; }
    serial=$(tr -d : <<<"$serial" | sed 's/^0*//')
    out=$(card_sign "$label" SHA256withRSA 2>&1) || true
    if [ "$MODULE_KIND" = opensc ]; then
      # OpenSC 0.23 + CPS3: SunPKCS11's SHA256withRSA is C_SignInit(CKM_SHA256_RSA_PKCS) +
      # C_SignUpdate + C_SignFinal; OpenSC refuses it on the authentication key
      # (CKR_MECHANISM_INVALID) and fails C_SignFinal on the signature key
      # (CKR_FUNCTION_NOT_SUPPORTED). Recorded, not judged: the checks are for our module.
      log "OpenSC, Java SHA256withRSA, CPS3 $what key: $(grep -o 'CKR_[A-Z_]*\|verified' <<<"$out" | head -n 1 || echo '?')"
      continue
    fi
    check_contains "$gen: Java SHA256withRSA with '$label', verified with its certificate" "serial $serial: verified" "$out"
  done
  if [ "$gen" = cps4 ]; then
    out=$(card_sign "$AUTH_LABEL" SHA256withRSA/PSS 2>&1) || true
    check_contains "cps4: Java RSASSA-PSS (SHA-256) with the authentication key, verified" ": verified" "$out"
  else
    check_fails "cps3: Java RSASSA-PSS is refused (no PSS on a CPS3)" card_sign "$AUTH_LABEL" SHA256withRSA/PSS
  fi
  card_pull
}

case "$MODULE_KIND" in
  opensc) java_card cps3 ;;
  *) java_card cps4; java_card cps3 ;;
esac
