#!/usr/bin/env bash
# NSS (the library of Firefox and Thunderbird) loads our module: `modutil -add` registers it in a
# fresh NSS database, `modutil -list` shows its slot and token, and `certutil -L -h all` lists both
# certificates of the card (objects.md §3: "Certificat de Signature CPS",
# "Certificat d'Authentification CPS"), on both generations, through the in-process emulated reader
# and through pcscd + vpcd. `certutil -K` with the PIN then lists the two private keys.
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"
source "$(dirname "${BASH_SOURCE[0]}")/pkcs11_lib.sh"
require modutil certutil
build_cps_tool
build_module

nss_checks() {   # nss_checks GENERATION WHERE LABEL
  local g=$1 where=$2 label=$3 db="$E2E_DIR/nssdb-$1-$2" out
  rm -rf "$db"; mkdir -p "$db"
  certutil -N -d "sql:$db" --empty-password
  out=$(timeout 120 modutil -dbdir "sql:$db" -add cpscard -libfile "$MODULE" -force 2>&1) || true
  check_contains "$g $where: modutil -add registers the module" "Module \"cpscard\" added to database." "$out"
  out=$(timeout 120 modutil -dbdir "sql:$db" -list cpscard 2>&1) || true
  check_contains "$g $where: modutil -list shows the token" "Token Name: $label" "$out"
  out=$(timeout 120 certutil -d "sql:$db" -L -h all 2>&1) || true
  check_contains "$g $where: certutil -L lists the signature certificate" \
    "$label:Certificat de Signature CPS" "$out"
  check_contains "$g $where: certutil -L lists the authentication certificate" \
    "$label:Certificat d'Authentification CPS" "$out"
  printf '1234\n' > "$E2E_DIR/pin.txt"
  out=$(timeout 120 certutil -d "sql:$db" -K -h "$label" -f "$E2E_DIR/pin.txt" 2>&1) || true
  check_contains "$g $where: certutil -K (PIN) lists the signature key" "CPS_PRIV_SIG" "$out"
  check_contains "$g $where: certutil -K (PIN) lists the authentication key" "CPS_PRIV_AUT" "$out"
}

for g in cps3 cps4; do
  label=$([ "$g" = cps3 ] && echo CPS3v3-12345678 || echo CPS4-12345678)
  (
    export CPSCARD_PCSC=0 CPSCARD_EMULATED="$g:$E2E_DIR/$g-inproc.json" CPSCARD_CACHE_DIR="$E2E_DIR/cache-$g"
    nss_checks "$g" in-process "$label (EMULATED)"
    echo "$E2E_PASSED $E2E_FAILED" > "$E2E_DIR/counts-$g"
  )
  read -r p f < "$E2E_DIR/counts-$g"; E2E_PASSED=$p; E2E_FAILED=$f
done

start_pcscd
for g in cps3 cps4; do
  label=$([ "$g" = cps3 ] && echo CPS3v3-12345678 || echo CPS4-12345678)
  start_emulator --card "$g" --image "$E2E_DIR/$g-pcsc.json"
  CPSCARD_CACHE_DIR="$E2E_DIR/cache-pcsc-$g" nss_checks "$g" pcscd "$label"
  check_stop_emulator "$g pcscd: the emulator stops cleanly"
  wait_card absent || true
done
