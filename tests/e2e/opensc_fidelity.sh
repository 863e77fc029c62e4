#!/usr/bin/env bash
# Fidelity of the emulated CPS3 judged by OpenSC's own IAS-ECC/CPx driver (opensc-cpx-flow.md §9):
# card detection, the PKCS#15 dump, a PKCS#11 login + RSA-PKCS signature verified by OpenSSL with
# the fixture's authentication certificate, the same certificate read back, a decipher, and a
# wrong PIN refused then the right one accepted. All through pcscd + vpcd + `cps-tool emulate`.
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"
require opensc-tool pkcs15-tool pkcs11-tool openssl cmp
OPENSC_P11=${OPENSC_P11:-/usr/lib/x86_64-linux-gnu/opensc-pkcs11.so}
[ -r "$OPENSC_P11" ] || { echo "FAIL - no OpenSC PKCS#11 module at $OPENSC_P11 (package opensc-pkcs11)" >&2; exit 1; }
FIX="$E2E_ROOT/fixtures/cards/cps3/cps"
[ -r "$FIX/auth.pem" ] || { echo "FAIL - fixture $FIX/auth.pem missing" >&2; exit 1; }
AUT_ID=e828bd080f8025000001ff001002      # CPS_PRIV_AUT / its certificate (L2: select by --id)
build_cps_tool
start_pcscd
# The image keeps the PIN counter across the run (and shows write-through works under pcscd).
start_emulator --card cps3 --image "$E2E_DIR/cps3.json"
p11() { timeout 120 pkcs11-tool --module "$OPENSC_P11" "$@"; }

out=$(timeout 60 opensc-tool -n 2>&1) || true
check_eq "opensc-tool -n names the card IAS-ECC" "IAS-ECC" "$(tail -n 1 <<<"$out")"

out=$(timeout 120 pkcs15-tool --dump 2>&1) || true
check_contains "pkcs15-tool --dump: token" "PKCS#15 Card [CPS3v3-" "$out"
check_contains "pkcs15-tool --dump: the PIN" "PIN [Code porteur de la carte CPS]" "$out"
check_contains "pkcs15-tool --dump: signature key" "Private RSA Key [CPS_PRIV_SIG]" "$out"
check_contains "pkcs15-tool --dump: authentication key" "Private RSA Key [CPS_PRIV_AUT]" "$out"
check_contains "pkcs15-tool --dump: signature certificate" "X.509 Certificate [Certificat de Signature CPS]" "$out"
check_contains "pkcs15-tool --dump: authentication certificate" "X.509 Certificate [Certificat d'Authentification CPS]" "$out"
check_contains "pkcs15-tool --dump: public data object" "Data object 'CPS_ID_CARD'" "$out"

# The authentication certificate OpenSC reads is the fixture's.
openssl x509 -in "$FIX/auth.pem" -outform der -out "$E2E_DIR/auth-fixture.der"
openssl x509 -in "$FIX/auth.pem" -pubkey -noout > "$E2E_DIR/auth-pub.pem"
timeout 60 pkcs15-tool --read-certificate "$AUT_ID" -o "$E2E_DIR/auth-card.pem" >/dev/null 2>&1 || true
openssl x509 -in "$E2E_DIR/auth-card.pem" -outform der -out "$E2E_DIR/auth-card.der" 2>/dev/null || true
check "the card's authentication certificate is the fixture's" \
  cmp "$E2E_DIR/auth-fixture.der" "$E2E_DIR/auth-card.der"

# Sign with the OpenSC PKCS#11 module, verify with OpenSSL.
printf 'cpscard e2e %s\n' "$(date +%s%N)" > "$E2E_DIR/in.txt"
rm -f "$E2E_DIR/sig.bin"
check "pkcs11-tool --login --sign -m RSA-PKCS --id $AUT_ID" \
  p11 --login --pin 1234 --sign -m RSA-PKCS --id "$AUT_ID" \
  --input-file "$E2E_DIR/in.txt" --output-file "$E2E_DIR/sig.bin"
out=$(openssl pkeyutl -verifyrecover -pubin -inkey "$E2E_DIR/auth-pub.pem" -in "$E2E_DIR/sig.bin" 2>&1) || true
check_eq "openssl recovers the signed input with the auth certificate's key" "$(cat "$E2E_DIR/in.txt")" "$out"

# Decipher (CPS_PRIV_AUT is also the decipher key, opensc-cpx-flow.md §5.3).
printf 'secret %s' "$RANDOM" > "$E2E_DIR/plain.txt"
openssl pkeyutl -encrypt -pubin -inkey "$E2E_DIR/auth-pub.pem" -pkeyopt rsa_padding_mode:pkcs1 \
  -in "$E2E_DIR/plain.txt" -out "$E2E_DIR/cipher.bin"
out=$(p11 --login --pin 1234 --decrypt -m RSA-PKCS --id "$AUT_ID" --input-file "$E2E_DIR/cipher.bin" 2>/dev/null) || true
check_eq "pkcs11-tool --decrypt -m RSA-PKCS gives the plaintext back" "$(cat "$E2E_DIR/plain.txt")" "$out"

# One wrong PIN is refused (a try is spent), the right one then works and restores the tries.
out=$(p11 --login --pin 9999 --list-objects 2>&1) || true
check_contains "a wrong PIN is refused with CKR_PIN_INCORRECT" "CKR_PIN_INCORRECT" "$out"
check "the right PIN after a wrong one logs in" p11 --login --pin 1234 --list-objects
out=$("$CPS_TOOL" --reader "$E2E_READER" apdu 0020000100 2>&1 | tail -n 1) || true
check_contains "the card is left unverified with 3 tries (VERIFY status query)" "< 63 C3" "$out"
check_stop_emulator "emulator exits 0 on SIGTERM"
check "the card image was written" test -s "$E2E_DIR/cps3.json"
