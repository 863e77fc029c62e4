# Headless Firefox ESR for the e2e scripts (source it after clients/harness.sh).
#
# Firefox is configured the way an administrator would, by enterprise policy only
# (distribution/policies.json of a private copy of the application directory, so the machine's
# /etc/firefox and /usr/lib/firefox-esr stay untouched):
#   SecurityDevices.Add   our PKCS#11 module
#   Certificates.Install  the test servers' CA
#   Preferences           security.default_personal_cert = "Select Automatically" (locked)
# plus the policies that keep a test browser quiet (no updates, no telemetry, no first-run page).
# No security preference is flipped; user.js holds only the Marionette port and prefs that stop
# background network traffic (safe browsing, captive portal, remote settings, site icons).
#
#   ff_start TAG [extra policies JSON members]   starts Firefox + the Marionette co-process
#                (FF_USE_PROFILE=DIR: that existing profile instead of a new one;
#                 FF_NO_DEVICE_POLICY=1: no SecurityDevices policy, the profile's own modules)
#   ff_cmd JSON [TIMEOUT]                        one Marionette command; answer in FF_REPLY
#   ff_navigate URL EXPECT...                    loads URL (always returns 0: judge FF_REPLY)
#   ff_get FIELD                                 a field of FF_REPLY (python expression on r)
#   ff_stop                                      quits (SIGKILL after a grace period)
# Firefox always runs under `timeout -k` (FF_MAX_SECS): it can never hang the test run.

FIREFOX_DIR=${FIREFOX_DIR:-/usr/lib/firefox-esr}
FF_MAX_SECS=${FF_MAX_SECS:-240}
FF_PID=""; FF_REPLY=""

ff_need() { need firefox-esr:firefox-esr "$PY3:python3"; }

# ff_app: the private application directory (symlinks to the installed Firefox; the binary is
# copied because Firefox finds its distribution/ directory next to the real binary path).
ff_app() {
  local f
  FF_APP="$E2E_DIR/ffapp"
  [ -x "$FF_APP/firefox-esr" ] && return 0
  mkdir -p "$FF_APP/distribution"
  for f in "$FIREFOX_DIR"/*; do
    case ${f##*/} in firefox-esr|firefox-bin|distribution) ;; *) ln -s "$f" "$FF_APP/${f##*/}" ;; esac
  done
  cp "$FIREFOX_DIR/firefox-esr" "$FF_APP/firefox-esr"
}

# ff_policies [EXTRA JSON MEMBERS, e.g. '"SSLVersionMax": "tls1.2"']
ff_policies() {
  local extra=${1:-} device='"SecurityDevices": { "Add": { "cpscard": "'"$MODULE"'" } },'
  [ -z "${FF_NO_DEVICE_POLICY:-}" ] || device=""
  ff_app
  cat > "$FF_APP/distribution/policies.json" <<EOF
{ "policies": {
    $device
    "Certificates": { "Install": ["$SERVER_CA"] },
    "Preferences": {
      "security.default_personal_cert": { "Value": "Select Automatically", "Status": "locked" } },
    "DisableAppUpdate": true, "DisableTelemetry": true, "DisableFirefoxStudies": true,
    "OverrideFirstRunPage": "", "OverridePostUpdatePage": "", "DontCheckDefaultBrowser": true,
    "CaptivePortal": false${extra:+, $extra} } }
EOF
}

ff_profile() {
  local p=$1
  if [ -z "${FF_USE_PROFILE:-}" ]; then rm -rf "$p"; mkdir -p "$p"; fi
  cat > "$p/user.js" <<EOF
user_pref("marionette.port", $FF_MARIONETTE_PORT);
user_pref("browser.aboutwelcome.enabled", false);
user_pref("browser.safebrowsing.malware.enabled", false);
user_pref("browser.safebrowsing.phishing.enabled", false);
user_pref("browser.safebrowsing.downloads.enabled", false);
user_pref("network.connectivity-service.enabled", false);
user_pref("services.settings.server", "http://127.0.0.1:9/");
user_pref("extensions.getAddons.cache.enabled", false);
user_pref("browser.chrome.site_icons", false);
EOF
}

# ff_start TAG [EXTRA POLICIES]: a fresh profile, Firefox under `timeout -k`, Marionette session.
ff_start() {
  local tag=$1 t0
  t0=$(date +%s.%N)
  [ -n "${SERVER_CA:-}" ] || make_server_pki
  FF_MARIONETTE_PORT=$(free_port_pair) || { echo "FAIL - no free port for Marionette" >&2; exit 1; }
  ff_policies "${2:-}"
  local profile=${FF_USE_PROFILE:-$E2E_DIR/ff-$tag}
  ff_profile "$profile"
  mkdir -p "$E2E_DIR/home"
  # `timeout` leads its own process group: on expiry (or our kill of the group) it takes the
  # whole Firefox process tree with it.
  env HOME="$E2E_DIR/home" XDG_CONFIG_HOME="$E2E_DIR/home/.config" XDG_CACHE_HOME="$E2E_DIR/home/.cache" \
    MOZ_CRASHREPORTER_DISABLE=1 MOZ_HEADLESS=1 \
    timeout -k 5 "$FF_MAX_SECS" "$FF_APP/firefox-esr" --headless --marionette -remote-allow-system-access \
    --no-remote --profile "$profile" about:blank </dev/null >"$E2E_DIR/firefox-$tag.log" 2>&1 &
  FF_PID=$!
  CLIENTS_PIDS+=("$FF_PID")
  coproc FF_MN { exec "$PY3" "$CLIENTS_HERE/marionette.py" "$FF_MARIONETTE_PORT" 60 2>>"$E2E_DIR/marionette-$tag.log"; }
  CLIENTS_PIDS+=("$FF_MN_PID")
  if ! IFS= read -r -t 90 FF_REPLY <&"${FF_MN[0]}" || [ "$(ff_get 'r["ok"]')" != True ]; then
    fail "firefox ($tag) did not start: ${FF_REPLY:-no answer}" "$(tail -n 20 "$E2E_DIR/firefox-$tag.log")"
    exit 1
  fi
  log "firefox $tag: $(ff_get 'r["ready"]') up in $(awk -v a="$t0" -v b="$(date +%s.%N)" 'BEGIN{printf "%.1f", b-a}') s"
}

# ff_cmd JSON [TIMEOUT]: returns 0 if the answer says ok
ff_cmd() {
  local timeout=${2:-90}
  FF_REPLY=""
  if [ -z "${FF_MN_PID:-}" ] || ! alive "$FF_MN_PID"; then FF_REPLY='{"ok": false, "error": "marionette client gone"}'; return 1; fi
  printf '%s\n' "$1" >&"${FF_MN[1]}"
  if ! IFS= read -r -t "$timeout" FF_REPLY <&"${FF_MN[0]}"; then
    FF_REPLY='{"ok": false, "hung": true, "error": "no answer from the marionette client"}'
    return 1
  fi
  printf '%s\n' "$FF_REPLY" >> "$E2E_DIR/marionette-replies.log"
  [ "$(ff_get 'r["ok"]')" = True ]
}

# ff_get EXPR: evaluates a python expression on the last answer `r`
ff_get() { "$PY3" -c 'import json,sys; r=json.loads(sys.argv[1]); print(eval(sys.argv[2]))' "$FF_REPLY" "$1" 2>/dev/null; }

# ff_navigate URL EXPECT...: navigation with the page checked for each EXPECT string
ff_navigate() {
  local url=$1 args; shift
  args=$("$PY3" -c 'import json,sys; print(json.dumps({"cmd":"navigate","url":sys.argv[1],"timeout":float(sys.argv[2]),"expect":sys.argv[4:],"html":sys.argv[3]}))' \
    "$url" "${FF_NAV_TIMEOUT:-30}" "$E2E_DIR/page-$(date +%s%N).html" "$@")
  ff_cmd "$args" $((${FF_NAV_TIMEOUT:-30} + 20)) || true   # the caller judges FF_REPLY
}

ff_stop() {
  local i
  [ -n "$FF_PID" ] || return 0
  ff_cmd '{"cmd": "quit"}' 25 >/dev/null || true
  for i in $(seq 1 60); do alive "$FF_PID" || break; sleep 0.25; done
  if alive "$FF_PID"; then
    log "firefox did not quit: SIGTERM then SIGKILL to its process group"
    kill -TERM -- "-$FF_PID" 2>/dev/null || true
    for i in $(seq 1 20); do alive "$FF_PID" || break; sleep 0.25; done
    kill -KILL -- "-$FF_PID" 2>/dev/null || true
  fi
  wait "$FF_PID" 2>/dev/null || true
  [ -z "${FF_MN_PID:-}" ] || wait "$FF_MN_PID" 2>/dev/null || true
  FF_PID=""
}

# --- checks -----------------------------------------------------------------------------

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

# ff_login TOKEN: the application-login path (PK11_CheckUserPassword from chrome JS)
ff_login() {
  ff_cmd "$("$PY3" -c 'import json,sys; print(json.dumps({"cmd":"login","token":sys.argv[1],"pin":sys.argv[2]}))' "$1" "$PIN")" || true
}
