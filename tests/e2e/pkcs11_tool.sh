#!/usr/bin/env bash
# OpenSC's pkcs11-tool against our module (libcps_pkcs11.so), on both card generations, twice:
# through the module's in-process emulated reader (CPSCARD_EMULATED) and through pcscd + vpcd +
# `cps-tool emulate` (a reader like any other). Checks:
#   - `pkcs11-tool --test --login --pin 1234` passes ("No errors");
#   - `-M` lists exactly fixtures/expected/<gen>-mechanisms.txt (objects.md §6, recommended lists);
#   - pkcs11-tool signs with both keys (SHA256-RSA-PKCS; CPS4 also PSS; RSA-PKCS with the
#     authentication key) and OpenSSL verifies with the fixture certificates;
#   - 3 wrong PINs lock the PIN (token flags), the PUK unblocks it (C_Login(SO) + C_InitPIN),
#     C_SetPIN changes it;
#   - `-O` without and with login list the vendor module's objects: fixtures/expected/
#     <gen>-objects[-login].txt, normalised as pkcs11_lib.sh says (drop-in, cryptolib-reference.md);
#   - with CPSCARD_VENDOR_MODULE=/path/libcps3_pkcs11_lux.so (local runs only: the vendor's module
#     is never in the repository or in CI), the vendor's own listings of the same emulated card
#     are compared with the same expected files, which keeps them honest;
#   - APDU counts through pcscd (its --apdu log) are printed.
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"
source "$(dirname "${BASH_SOURCE[0]}")/pkcs11_lib.sh"
require pkcs11-tool openssl
build_cps_tool
build_module

p11() { timeout 300 pkcs11-tool --module "$MODULE" "$@"; }

run_checks() {   # run_checks GENERATION WHERE
  local g=$1 where=$2 out
  out=$(p11 --test --login --pin 1234 2>&1) || true
  check_contains "$g $where: pkcs11-tool --test --login passes" "No errors" "$out"
  out=$(p11 -M 2>&1 | normalise_mechanisms) || true
  check_listing "$g $where: -M lists the card profile's mechanisms" "$EXPECTED/$g-mechanisms.txt" "$out"
  out=$(p11 -O 2>&1 | normalise_objects) || true
  check_listing "$g $where: -O lists the vendor's public objects" "$EXPECTED/$g-objects.txt" "$out"
  out=$(p11 -O --login --pin 1234 2>&1 | normalise_objects) || true
  check_listing "$g $where: -O --login lists the vendor's objects" "$EXPECTED/$g-objects-login.txt" "$out"
}

sign_checks() {   # sign_checks GENERATION WHERE: pkcs11-tool signs, OpenSSL verifies with the fixture
  local g=$1 where=$2 fix="$E2E_ROOT/fixtures/cards/$1/cps" id key out
  local sig_id aut_id
  if [ "$g" = cps3 ]; then sig_id=e828bd080f8025000001ff001001; aut_id=e828bd080f8025000001ff001002
  else sig_id=e828bd080f8025000001ff001010; aut_id=e828bd080f8025000001ff001020; fi
  printf 'cpscard e2e %s %s\n' "$g" "$where" > "$E2E_DIR/msg.txt"
  for key in sign:$sig_id auth:$aut_id; do
    id=${key#*:}; key=${key%%:*}
    openssl x509 -in "$fix/$key.pem" -pubkey -noout > "$E2E_DIR/$key-pub.pem"
    rm -f "$E2E_DIR/sig.bin"
    p11 --login --pin 1234 --sign -m SHA256-RSA-PKCS --id "$id" \
      --input-file "$E2E_DIR/msg.txt" --output-file "$E2E_DIR/sig.bin" >/dev/null 2>&1 || true
    check "$g $where: SHA256-RSA-PKCS with $key verifies with the fixture certificate" \
      openssl dgst -sha256 -verify "$E2E_DIR/$key-pub.pem" -signature "$E2E_DIR/sig.bin" "$E2E_DIR/msg.txt"
    if [ "$g" = cps4 ]; then
      rm -f "$E2E_DIR/sig.bin"
      p11 --login --pin 1234 --sign -m SHA256-RSA-PKCS-PSS --mgf MGF1-SHA256 --salt-len 32 --id "$id" \
        --input-file "$E2E_DIR/msg.txt" --output-file "$E2E_DIR/sig.bin" >/dev/null 2>&1 || true
      check "$g $where: SHA256-RSA-PKCS-PSS with $key verifies (TLS 1.3 scheme)" \
        openssl dgst -sha256 -sigopt rsa_padding_mode:pss -sigopt rsa_pss_saltlen:32 \
        -verify "$E2E_DIR/$key-pub.pem" -signature "$E2E_DIR/sig.bin" "$E2E_DIR/msg.txt"
    fi
  done
  # TLS 1.2 client authentication: CKM_RSA_PKCS with the authentication key over a DigestInfo
  # (the vendor's module fails it on CPS4 with pkcs11-tool's buffer, cryptolib-reference.md).
  openssl dgst -sha256 -binary "$E2E_DIR/msg.txt" > "$E2E_DIR/hash.bin"
  { printf '\x30\x31\x30\x0d\x06\x09\x60\x86\x48\x01\x65\x03\x04\x02\x01\x05\x00\x04\x20'; cat "$E2E_DIR/hash.bin"; } > "$E2E_DIR/di.bin"
  rm -f "$E2E_DIR/sig.bin"
  p11 --login --pin 1234 --sign -m RSA-PKCS --id "$aut_id" \
    --input-file "$E2E_DIR/di.bin" --output-file "$E2E_DIR/sig.bin" >/dev/null 2>&1 || true
  check "$g $where: RSA-PKCS with the authentication key verifies" \
    openssl dgst -sha256 -verify "$E2E_DIR/auth-pub.pem" -signature "$E2E_DIR/sig.bin" "$E2E_DIR/msg.txt"
}

pin_checks() {   # pin_checks GENERATION WHERE: block the PIN, unblock it with the PUK, change it
  local g=$1 where=$2 out i
  for i in 1 2 3; do p11 --login --pin 0000 -O >/dev/null 2>&1 || true; done
  out=$(p11 -L 2>&1) || true
  check_contains "$g $where: 3 wrong PINs: the token says user PIN locked" "user PIN locked" "$out"
  out=$(p11 --login --login-type so --so-pin 12345678 --init-pin --new-pin 4321 2>&1) || true
  check_contains "$g $where: C_Login(SO, PUK) + C_InitPIN unblocks" "User PIN successfully initialized" "$out"
  out=$(p11 --login --pin 4321 --change-pin --new-pin 1234 2>&1) || true
  check_contains "$g $where: C_SetPIN changes it back" "PIN successfully changed" "$out"
  out=$(p11 -L 2>&1) || true
  check_contains "$g $where: the flags are clear again" "token flags        : login required, rng, token initialized, PIN initialized"$'\n' "$out"$'\n'
}

# 1. In-process emulated reader: no pcscd involved at all.
for g in cps3 cps4; do
  (
    export CPSCARD_PCSC=0 CPSCARD_EMULATED="$g:$E2E_DIR/$g-inproc.json" CPSCARD_CACHE_DIR="$E2E_DIR/cache-inproc-$g"
    out=$(p11 -L 2>&1) || true
    check_contains "$g in-process: -L shows the EMULATED token" "token label        : ${g^^}" "$out"
    check_contains "$g in-process: the slot says EMULATED" "EMULATED" "$out"
    run_checks "$g" in-process
    sign_checks "$g" in-process
    pin_checks "$g" in-process
    echo "$E2E_PASSED $E2E_FAILED" > "$E2E_DIR/counts-$g"
  )
  read -r p f < "$E2E_DIR/counts-$g"; E2E_PASSED=$p; E2E_FAILED=$f
done

# 2. Through pcscd + vpcd: the module sees a PC/SC reader with a card in it.
apdus() { grep -c 'APDU: ' "$E2E_DIR/pcscd.log" || true; }
start_pcscd
for g in cps3 cps4; do
  export CPSCARD_CACHE_DIR="$E2E_DIR/cache-pcsc-$g"
  start_emulator --card "$g" --image "$E2E_DIR/$g-pcsc.json"
  label=$([ "$g" = cps3 ] && echo CPS3v3-12345678 || echo CPS4-12345678)
  before=$(apdus)
  out=$(p11 -L 2>&1) || true
  check_contains "$g pcscd: -L shows the card's token" "token label        : $label" "$out"
  check_contains "$g pcscd: slot 0 is the vpcd reader" "Slot 0 (0x0): $E2E_READER" "$out"
  log "$g pcscd: -L cold (empty cache) $(( $(apdus) - before )) APDUs"
  before=$(apdus); p11 -L >/dev/null 2>&1 || true
  log "$g pcscd: -L warm (cache filled) $(( $(apdus) - before )) APDUs"
  run_checks "$g" pcscd
  sign_checks "$g" pcscd
  pin_checks "$g" pcscd
  before=$(apdus); p11 -O --login --pin 1234 >/dev/null 2>&1 || true
  log "$g pcscd: -O --login (warm) $(( $(apdus) - before )) APDUs"
  if [ -n "${CPSCARD_VENDOR_MODULE:-}" ]; then
    # Its cache is keyed by the card serial only: emptied so that it reads this image.
    vendor_cache=/etc/opt/santesocial/CPS/cache
    mkdir -p "$vendor_cache" && find "$vendor_cache" -mindepth 1 -delete
    v() { timeout 300 pkcs11-tool --module "$CPSCARD_VENDOR_MODULE" "$@"; }
    out=$(v -O 2>&1 | normalise_objects) || true
    check_listing "$g pcscd: the vendor's -O is the expected listing" "$EXPECTED/$g-objects.txt" "$out"
    out=$(v -O --login --pin 1234 2>&1 | normalise_objects) || true
    check_listing "$g pcscd: the vendor's -O --login is the expected listing" "$EXPECTED/$g-objects-login.txt" "$out"
    find "$vendor_cache" -mindepth 1 -delete
  fi
  check_stop_emulator "$g pcscd: the emulator stops cleanly"
  wait_card absent || true
  unset CPSCARD_CACHE_DIR
done
