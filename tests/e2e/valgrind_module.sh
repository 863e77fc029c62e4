#!/usr/bin/env bash
# Memory errors of our module under valgrind memcheck (issue 6 item 6), on the in-process
# emulated cards (CPSCARD_EMULATED: no pcscd): on each card `pkcs11-tool --test --login` (login,
# every signature mechanism of both keys, decryption, object search, digests, random), then an
# NSS listing — `certutil -K` with the PIN (CPS3: login + the keys) and `certutil -L` (CPS4: the
# certificates) — each run whole under
#   valgrind --tool=memcheck --leak-check=full --errors-for-leak-kinds=definite
# Checks, per run:
#   - the client did its job (pkcs11-tool "No errors", certutil lists the keys / certificates);
#   - no error at all once tests/e2e/valgrind.supp is applied (it holds only errors that are not
#     ours: OpenSC's pkcs11-tool not freeing its OpenSSL keys). valgrind's exit status says so;
#   - no error with a frame of our code (cps_pkcs11, cpscard, libcps_pkcs11.so), read from the log
#     (whatever the suppressions say of the others).
# About 2 minutes (valgrind is slow; the emulator's RSA is the heavy part).
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"
source "$(dirname "${BASH_SOURCE[0]}")/pkcs11_lib.sh"
require valgrind pkcs11-tool certutil modutil
build_module

SUPP="$E2E_ROOT/tests/e2e/valgrind.supp"
VG_ERRORS=99

# vg NAME CMD...: CMD under memcheck, log in $E2E_DIR/NAME.vg, output in $E2E_DIR/NAME.out;
# sets VG_RC.
vg() {
  local name=$1; shift
  VG_RC=0
  timeout 300 valgrind --tool=memcheck --leak-check=full --show-leak-kinds=definite \
    --errors-for-leak-kinds=definite --error-exitcode=$VG_ERRORS --num-callers=40 \
    --suppressions="$SUPP" --log-file="$E2E_DIR/$name.vg" "$@" >"$E2E_DIR/$name.out" 2>&1 || VG_RC=$?
}

# error_blocks LOG: valgrind's error reports (blocks with stack frames), one per paragraph.
error_blocks() {
  sed -E 's/^==[0-9]+== ?//' "$1" | awk -v RS= '/\n *(at|by) 0x/'
}

# ours LOG: how many of those reports have a frame in our code.
ours() {
  error_blocks "$1" | awk -v RS= '/cps_pkcs11|cpscard|libcps_pkcs11/ {n++} END {print n + 0}'
}

# vg_checks NAME DESCRIPTION: the checks on run NAME.
vg_checks() {
  local name=$1 desc=$2 log="$E2E_DIR/$1.vg" summary n
  summary=$(grep -E 'ERROR SUMMARY' "$log" | tail -1 | sed -E 's/^==[0-9]+== //')
  log "$desc: $summary"
  n=$(ours "$log")
  check_eq "$desc: no memcheck error with a frame in our code" 0 "$n"
  if [ "$VG_RC" -eq "$VG_ERRORS" ]; then
    fail "$desc: memcheck errors beyond the suppressions (exit $VG_RC)" "$(error_blocks "$log" | head -n 60)"
  else
    pass "$desc: no memcheck error beyond the suppressions ($summary)"
  fi
}

# The checker itself: a report with one of our frames is counted, another is not.
printf '%s\n' '==1== Invalid read of size 1' '==1==    at 0x1: memcpy (in /usr/lib/libc.so.6)' \
  '==1==    by 0x2: cps_pkcs11::fns::sign_verify::C_Sign (sign_verify.rs:30)' '==1== ' \
  '==1== 8 bytes in 1 blocks are definitely lost in loss record 1 of 1' \
  '==1==    at 0x3: malloc (in /usr/libexec/valgrind/vgpreload_memcheck-amd64-linux.so)' \
  '==1==    by 0x4: BN_new (in /usr/lib/x86_64-linux-gnu/libcrypto.so.3)' '==1== ' \
  '==1== ERROR SUMMARY: 2 errors from 2 contexts (suppressed: 0 from 0)' > "$E2E_DIR/self-test.vg"
check_eq "the log checker counts a report with our frame, and only that one" 1 "$(ours "$E2E_DIR/self-test.vg")"

for g in cps3 cps4; do
  export CPSCARD_PCSC=0 CPSCARD_EMULATED="$g:$E2E_DIR/$g.json" CPSCARD_CACHE_DIR="$E2E_DIR/cache-$g"
  label=$([ "$g" = cps3 ] && echo CPS3v3-12345678 || echo CPS4-12345678)" (EMULATED)"

  t0=$(date +%s)
  vg "$g-pkcs11-tool" pkcs11-tool --module "$MODULE" --test --login --pin 1234
  log "$g: pkcs11-tool --test under valgrind: $(( $(date +%s) - t0 )) s"
  check_contains "$g: pkcs11-tool --test --login passes under valgrind" "No errors" \
    "$(cat "$E2E_DIR/$g-pkcs11-tool.out")"
  vg_checks "$g-pkcs11-tool" "$g pkcs11-tool --test"

  db="$E2E_DIR/nssdb-$g"
  mkdir -p "$db"
  certutil -N -d "sql:$db" --empty-password
  timeout 120 modutil -dbdir "sql:$db" -add cpscard -libfile "$MODULE" -force >/dev/null 2>&1 || true
  printf '1234\n' > "$E2E_DIR/pin.txt"
  t0=$(date +%s)
  if [ "$g" = cps3 ]; then
    vg "$g-certutil" certutil -d "sql:$db" -K -h "$label" -f "$E2E_DIR/pin.txt"
    out=$(cat "$E2E_DIR/$g-certutil.out")
    check_contains "$g: certutil -K (PIN) lists the signature key under valgrind" "CPS_PRIV_SIG" "$out"
    check_contains "$g: certutil -K (PIN) lists the authentication key under valgrind" "CPS_PRIV_AUT" "$out"
  else
    vg "$g-certutil" certutil -d "sql:$db" -L -h all
    out=$(cat "$E2E_DIR/$g-certutil.out")
    check_contains "$g: certutil -L lists the signature certificate under valgrind" \
      "$label:Certificat de Signature CPS" "$out"
    check_contains "$g: certutil -L lists the authentication certificate under valgrind" \
      "$label:Certificat d'Authentification CPS" "$out"
  fi
  log "$g: certutil under valgrind: $(( $(date +%s) - t0 )) s"
  vg_checks "$g-certutil" "$g certutil"
done
