# Shared by the PKCS#11 e2e scripts (source it after lib.sh): build our module and turn
# pkcs11-tool listings into the form kept in fixtures/expected/. Run by itself it does nothing
# (scripts/test runs every tests/e2e/*.sh).
if [[ "${BASH_SOURCE[0]}" == "$0" ]]; then
  echo "pkcs11_lib.sh: sourced by pkcs11_tool.sh and nss_modutil.sh, nothing to run"
  exit 0
fi
#
# normalise_objects < `pkcs11-tool -O` output: one line per object field that must match the
# vendor's module (cryptolib-reference.md): object type, label, CKA_ID, subject, data-object
# application and flags. Left out, as legitimately different: object handles ("Data object 12"),
# warnings, the usage of the signature certificate's public key (the vendor sets CKA_ENCRYPT and
# refuses C_Encrypt by label; ours says CKA_ENCRYPT FALSE, objects.md §6), app_id (the vendor's
# CKA_OBJECT_ID is not DER, objects.md §5), certificate serials, allowed mechanisms, access flags.

MODULE_GIVEN=${MODULE:-}
MODULE=${MODULE:-${CARGO_TARGET_DIR:-$E2E_ROOT/target}/debug/libcps_pkcs11.so}
EXPECTED="$E2E_ROOT/fixtures/expected"

# Builds the module unless MODULE names one (scripts/test's CPSCARD_E2E_NO_BUILD only covers
# cps-tool: `cargo test` does not leave the .so in target/debug, and a stale one would be tested).
build_module() {
  if [ -z "$MODULE_GIVEN" ]; then
    (cd "$E2E_ROOT" && cargo build -q -p cps-pkcs11)
  fi
  [ -r "$MODULE" ] || { echo "FAIL - no module at $MODULE" >&2; exit 1; }
}

# The C-ABI driver of the reliability scripts (pkcs11-module/examples/p11_drive.rs): sets DRIVE.
DRIVE=${CARGO_TARGET_DIR:-$E2E_ROOT/target}/debug/examples/p11_drive
build_driver() {
  (cd "$E2E_ROOT" && cargo build -q -p cps-pkcs11 --example p11_drive)
  [ -x "$DRIVE" ] || { echo "FAIL - no driver at $DRIVE" >&2; exit 1; }
}

normalise_objects() {
  sed -n -E \
    -e 's/^(Certificate Object|Public Key Object|Private Key Object)(;.*)?$/\1\2/p' \
    -e 's/^Data object [0-9]+$/Data object/p' \
    -e 's/^  (label|ID|subject|application|flags): +(.*)$/  \1: \2/p' \
  | sed -E 's/ +$//'
}

# normalise_mechanisms < `pkcs11-tool -M` output: the mechanism lines.
normalise_mechanisms() {
  sed -n -E 's/^  (.*[^ ]) *$/\1/p'
}

# check_listing DESCRIPTION EXPECTED_FILE ACTUAL_TEXT: exact comparison, with a diff on failure.
check_listing() {
  local desc=$1 file=$2 actual=$3
  if [ ! -r "$file" ]; then fail "$desc (missing $file)" "$actual"; return; fi
  if [ "$(cat "$file")" == "$actual" ]; then
    pass "$desc"
  else
    fail "$desc" "$(diff <(cat "$file") <(printf '%s\n' "$actual") || true)"
  fi
}
