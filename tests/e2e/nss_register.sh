#!/usr/bin/env bash
# `cps-tool register` in a temporary HOME holding a Firefox profile (profiles.ini + an NSS
# database made by `certutil -N`) and a second profile never started:
#   register -> modutil -list shows the module in the profile and in ~/.pki/nssdb (created),
#               p11-kit list-modules shows it from the .module file, Firefox itself loads it
#               from the profile (no policy);
#   register again -> nothing changes (files byte for byte); --dry-run changes nothing;
#   --remove -> gone everywhere; --remove again -> nothing to remove;
#   without --module -> the libcps_pkcs11.so next to cps-tool.
# No card is needed: only the module's registration is under test.
E2E_HOME=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
source "$E2E_HOME/lib.sh"
source "$E2E_HOME/clients/harness.sh"
source "$E2E_HOME/clients/firefox.sh"
need modutil:libnss3-tools certutil:libnss3-tools p11-kit:p11-kit unshare:util-linux
ff_need
build_cps_tool
use_module cpscard

H="$E2E_DIR/home"
FF="$H/.mozilla/firefox"
PROFILE="$FF/t3st.default-esr"
mkdir -p "$PROFILE" "$FF/never.started"
cat > "$FF/profiles.ini" <<EOF
[Install3B6073811A6ABF12]
Default=t3st.default-esr
Locked=1

[Profile1]
Name=never
IsRelative=1
Path=never.started

[Profile0]
Name=default-esr
IsRelative=1
Path=t3st.default-esr
Default=1

[General]
StartWithLastProfile=1
Version=2
EOF
certutil -N -d "sql:$PROFILE" --empty-password
P11KIT_DIR="$E2E_DIR/p11-kit-modules"
NAME="CPS (cpscard)"   # the default module name (what Firefox shows under Security Devices)
reg() { HOME="$H" LC_ALL=C "$CPS_TOOL" register --p11-kit-dir "$P11KIT_DIR" "$@"; }
modules_of() { timeout 60 modutil -dbdir "sql:$1" -list 2>&1; }
snapshot() { cat "$PROFILE/pkcs11.txt" "$H/.pki/nssdb/pkcs11.txt" "$P11KIT_DIR/cpscard.module" 2>/dev/null | sha256sum; }
in_p11kit() {  # p11-kit sees only the directory register wrote to (see p11kit_client.sh)
  $SUDO unshare --mount --propagation private \
    sh -c 'mount --bind "$1" /usr/share/p11-kit/modules && shift && exec "$@"' sh "$P11KIT_DIR" "$@"
}

out=$(reg --dry-run --module "$MODULE" 2>&1) || true
check_contains "--dry-run: says it would add the module to the profile" "$PROFILE: would add \"$NAME\" ($MODULE)" "$out"
check_contains "--dry-run: would create ~/.pki/nssdb" "$H/.pki/nssdb: would create the database" "$out"
check "--dry-run: changes nothing" bash -c "! grep -q libcps_pkcs11 '$PROFILE/pkcs11.txt' && [ ! -e '$H/.pki/nssdb' ] && [ ! -e '$P11KIT_DIR' ]"

out=$(HOME="$H" LC_ALL=fr_FR.UTF-8 "$CPS_TOOL" register --dry-run --module "$MODULE" --p11-kit-dir "$P11KIT_DIR" 2>&1) || true
check_contains "--dry-run in French (LC_ALL=fr_FR.UTF-8)" "$PROFILE : ajouterait « $NAME »" "$out"

rc=0; out=$(reg --module "$MODULE" 2>&1) || rc=$?
printf '%s\n' "$out" | sed 's/^/       /'
check_eq "register exits 0" 0 "$rc"
check_contains "register: the profile" "Firefox profile $PROFILE: added \"$NAME\" ($MODULE)" "$out"
check_contains "register: the never-started profile is skipped with the reason" "$FF/never.started: skipped: no NSS database yet" "$out"
check_contains "register: ~/.pki/nssdb created" "$H/.pki/nssdb: created the database; added \"$NAME\"" "$out"
check_contains "register: p11-kit file" "p11-kit $P11KIT_DIR/cpscard.module: written (module: $MODULE)" "$out"
check_contains "modutil -list (profile) shows the module" "library name: $MODULE" "$(modules_of "$PROFILE")"
check_contains "modutil -list (profile) names it $NAME" "$NAME" "$(modules_of "$PROFILE")"
check_contains "modutil -list (~/.pki/nssdb) shows the module" "library name: $MODULE" "$(modules_of "$H/.pki/nssdb")"
check_contains "p11-kit list-modules shows it from the .module file" "cpscard: $MODULE" "$(in_p11kit timeout 60 p11-kit list-modules 2>&1)"

before=$(snapshot)
out=$(reg --module "$MODULE" 2>&1) || true
check_contains "register again: already registered (profile)" "$PROFILE: already registered (as \"$NAME\")" "$out"
check_contains "register again: already registered (p11-kit)" "cpscard.module: already registered" "$out"
check_eq "register again: the files did not change" "$before" "$(snapshot)"
out=$(reg 2>&1) || true
check_contains "without --module: the libcps_pkcs11.so next to cps-tool" "already registered (as \"$NAME\")" "$out"
check_eq "without --module: nothing changed (same library)" "$before" "$(snapshot)"

# Firefox loads the module from the profile's own module list (no enterprise policy).
FF_USE_PROFILE=$PROFILE FF_NO_DEVICE_POLICY=1 ff_start registered
if ff_cmd '{"cmd": "info"}'; then
  check_contains "Firefox loads the registered module from the profile" "'lib': '$MODULE'" \
    "$(ff_get '[m for m in r["info"]["modules"] if m["name"] == "CPS (cpscard)"]')"
else
  fail "Firefox info" "$FF_REPLY"
fi
ff_stop

out=$(reg --remove --dry-run 2>&1) || true
check_contains "--remove --dry-run: would remove" "$PROFILE: would remove \"$NAME\"" "$out"
check_eq "--remove --dry-run: changes nothing" "$before" "$(snapshot)"
out=$(reg --remove 2>&1) || true
printf '%s\n' "$out" | sed 's/^/       /'
check_contains "--remove: the profile" "$PROFILE: removed \"$NAME\"" "$out"
check_contains "--remove: the p11-kit file" "cpscard.module: removed" "$out"
check_fails "--remove: modutil -list (profile) no longer shows it" grep -q "$MODULE" <<<"$(modules_of "$PROFILE")"
check_fails "--remove: modutil -list (~/.pki/nssdb) no longer shows it" grep -q "$MODULE" <<<"$(modules_of "$H/.pki/nssdb")"
check "--remove: the .module file is gone" test ! -e "$P11KIT_DIR/cpscard.module"
out=$(reg --remove 2>&1) || true
check_contains "--remove again: nothing to remove" "$PROFILE: not registered: nothing to remove" "$out"
check_exit "a missing --module is a usage error (exit 2)" 2 reg --module "$E2E_DIR/nope.so"
