#!/usr/bin/python3
"""Drives a headless Firefox over Marionette (its remote protocol), stdlib only: Debian 12 has
no geckodriver package, so the e2e scripts speak the protocol themselves.

Firefox must run with `--headless --marionette -remote-allow-system-access` and a profile whose
user.js sets `marionette.port`. This program is a co-process of the test script: it reads one
JSON command per line on stdin and answers one JSON object per line on stdout:

  {"cmd": "info"}                       policies, the locked pref, modules and their tokens
  {"cmd": "login", "token": T, "pin": P, "wait": S}
        the application-login path: Firefox's own NSS, from chrome JS through js-ctypes,
        PK11_FindSlotByName(T) + PK11_CheckUserPassword(slot, P) (= C_Login with that PIN)
        (waits up to S seconds, default 5, for the token to be present)
  {"cmd": "logged_in", "token": T}      PK11_IsLoggedIn for that token
  {"cmd": "logout"}                     nsISecretDecoderRing.logoutAndTeardown(): logs every
                                        token out and forgets TLS sessions and client-auth decisions
  {"cmd": "navigate", "url": U, "timeout": S, "expect": [..], "html": PATH}
        loads U in the content context; answers ok, error (Firefox's error page text, e.g.
        "about:neterror?e=nssFailure2"), hung (no answer within the timeout: a modal dialog),
        the current URL and, for each expected string, whether the page contains it
  {"cmd": "quit"}

Every answer has "ok" and "secs". Nothing here knows about PINs beyond passing them to Firefox.
"""
import json
import socket
import sys
import time


class Marionette:
    """The framing is `<length>:<json>`; commands are [0, id, name, params], answers
    [1, id, error, result]."""

    def __init__(self, port, connect_timeout):
        deadline = time.time() + connect_timeout
        last = None
        while True:
            try:
                self.sock = socket.create_connection(("127.0.0.1", port), timeout=5)
                break
            except OSError as e:  # Firefox not listening yet
                last = e
                if time.time() > deadline:
                    raise RuntimeError(f"no Marionette on port {port}: {last}") from e
                time.sleep(0.2)
        self.buf = b""
        self.msgid = 0
        hello = self._recv(30)
        if hello.get("marionetteProtocol") != 3:
            raise RuntimeError(f"unexpected Marionette greeting {hello}")

    def _recv(self, timeout):
        self.sock.settimeout(timeout)
        while b":" not in self.buf:
            chunk = self.sock.recv(65536)
            if not chunk:
                raise RuntimeError("Marionette connection closed")
            self.buf += chunk
        length, rest = self.buf.split(b":", 1)
        length = int(length)
        while len(rest) < length:
            chunk = self.sock.recv(1 << 20)
            if not chunk:
                raise RuntimeError("Marionette connection closed")
            rest += chunk
        self.buf = rest[length:]
        return json.loads(rest[:length])

    def cmd(self, name, params=None, timeout=60):
        self.msgid += 1
        data = json.dumps([0, self.msgid, name, params or {}]).encode()
        self.sock.sendall(str(len(data)).encode() + b":" + data)
        while True:
            msg = self._recv(timeout)
            if isinstance(msg, list) and msg[0] == 1 and msg[1] == self.msgid:
                if msg[2]:
                    err = msg[2]
                    raise CommandError(err.get("message", str(err)) if isinstance(err, dict) else str(err))
                return msg[3]

    def chrome(self, script, args, timeout=60):
        self.cmd("Marionette:SetContext", {"value": "chrome"})
        try:
            r = self.cmd("WebDriver:ExecuteScript", {"script": script, "args": args}, timeout)
        finally:
            self.cmd("Marionette:SetContext", {"value": "content"})
        return r.get("value", r) if isinstance(r, dict) else r


class CommandError(Exception):
    pass


# Firefox's own NSS from chrome JS (nsIPK11Token.checkPassword() no longer exists in ESR 153).
NSS_JS = r"""
const { ctypes } = ChromeUtils.importESModule("resource://gre/modules/ctypes.sys.mjs");
const dir = Services.dirsvc.get("GreBinD", Ci.nsIFile).path;
const nss = ctypes.open(dir + "/" + ctypes.libraryName("nss3"));
const voidp = ctypes.voidptr_t, cstr = ctypes.char.ptr, abi = ctypes.default_abi;
const FindSlot = nss.declare("PK11_FindSlotByName", abi, voidp, cstr);
const CheckPW = nss.declare("PK11_CheckUserPassword", abi, ctypes.int, voidp, cstr);
const IsLoggedIn = nss.declare("PK11_IsLoggedIn", abi, ctypes.int, voidp, voidp);
const FreeSlot = nss.declare("PK11_FreeSlot", abi, ctypes.void_t, voidp);
const [what, tokenName, pin, waitMs] = arguments;
const db = Cc["@mozilla.org/security/pkcs11moduledb;1"].getService(Ci.nsIPKCS11ModuleDB);
return (async () => {
  // A token inserted after start-up is seen once NSS re-checks its slot: nsIPKCS11Slot.status
  // calls PK11_IsPresent, as Firefox does itself before a client authentication.
  const deadline = Date.now() + (waitMs || 0);
  let slot = null, polls = 0;
  for (;;) {
    for (const mod of await db.listModules())
      for (const s of (("slots" in mod) ? mod.slots : mod.listSlots())) { try { s.status; } catch (e) {} }
    polls++;
    slot = FindSlot(tokenName);
    if (!slot.isNull() || Date.now() > deadline) break;
    await new Promise(r => setTimeout(r, 200));
  }
  if (slot.isNull()) { nss.close(); return {found: false, polls}; }
  const before = IsLoggedIn(slot, null);
  let rv = null;
  if (what == "login") rv = CheckPW(slot, pin);      // 0 == SECSuccess
  const after = IsLoggedIn(slot, null);
  FreeSlot(slot); nss.close();
  return {found: true, polls, before: before == 1, rv: rv, logged_in: after == 1};
})();
"""

INFO_JS = r"""
const out = {};
try { out.policies_active = Services.policies.status == Services.policies.ACTIVE;
      out.policies = Object.keys(Services.policies.getActivePolicies() || {}); }
catch (e) { out.policies_error = String(e); }
out.default_personal_cert = Services.prefs.getStringPref("security.default_personal_cert", "");
out.default_personal_cert_locked = Services.prefs.prefIsLocked("security.default_personal_cert");
out.tls_version_max = Services.prefs.getIntPref("security.tls.version.max", -1);
return (async () => {
  const db = Cc["@mozilla.org/security/pkcs11moduledb;1"].getService(Ci.nsIPKCS11ModuleDB);
  out.modules = [];
  for (const mod of await db.listModules()) {
    const tokens = [];
    for (const slot of (("slots" in mod) ? mod.slots : mod.listSlots())) {
      try { const t = slot.getToken(); if (t) tokens.push(t.tokenName); } catch (e) {}
    }
    out.modules.push({name: mod.name, lib: mod.libName, tokens});
  }
  return out;
})();
"""

LOGOUT_JS = r"""
Cc["@mozilla.org/security/sdr;1"].getService(Ci.nsISecretDecoderRing).logoutAndTeardown();
return true;
"""


def run(m, req):
    cmd = req.get("cmd")
    if cmd == "info":
        return {"ok": True, "info": m.chrome(INFO_JS, [])}
    if cmd in ("login", "logged_in"):
        r = m.chrome(NSS_JS, [cmd, req["token"], req.get("pin", ""), int(req.get("wait", 5) * 1000)],
                     req.get("timeout", 60))
        ok = bool(r.get("found")) and (r.get("logged_in") if cmd == "login" else True)
        return {"ok": bool(ok), **r}
    if cmd == "logout":
        m.chrome(LOGOUT_JS, [])
        return {"ok": True}
    if cmd == "navigate":
        timeout = float(req.get("timeout", 30))
        m.cmd("WebDriver:SetTimeouts", {"pageLoad": int(timeout * 1000)})
        out = {"ok": True, "error": None, "hung": False}
        try:
            m.cmd("WebDriver:Navigate", {"url": req["url"]}, timeout + 10)
        except CommandError as e:  # "Reached error page: about:neterror?e=nssFailure2&..."
            out["ok"] = False
            out["error"] = str(e)[:600]
        except (socket.timeout, TimeoutError):
            out.update(ok=False, hung=True, error="no answer: Firefox is blocked (modal dialog?)")
            return out
        out["url"] = m.cmd("WebDriver:GetCurrentURL").get("value", "")
        src = m.cmd("WebDriver:GetPageSource").get("value", "")
        if req.get("html"):
            with open(req["html"], "w", encoding="utf-8") as f:
                f.write(src)
        out["contains"] = {s: s in src for s in req.get("expect", [])}
        return out
    if cmd == "quit":
        try:
            m.cmd("Marionette:Quit", {"flags": ["eForceQuit"]}, 20)
        except Exception:  # the connection closes while Firefox quits
            pass
        return {"ok": True}
    return {"ok": False, "error": f"unknown command {cmd!r}"}


def main():
    port = int(sys.argv[1])
    connect_timeout = float(sys.argv[2]) if len(sys.argv) > 2 else 60
    t0 = time.time()
    try:
        m = Marionette(port, connect_timeout)
        caps = m.cmd("WebDriver:NewSession", {"capabilities": {"alwaysMatch": {
            "acceptInsecureCerts": False, "pageLoadStrategy": "normal"}}})
        c = caps.get("capabilities", {})
        print(json.dumps({"ok": True, "ready": f"{c.get('browserName')} {c.get('browserVersion')}",
                          "secs": round(time.time() - t0, 2)}), flush=True)
    except Exception as e:
        print(json.dumps({"ok": False, "error": f"session: {e}", "secs": round(time.time() - t0, 2)}),
              flush=True)
        return 1
    for line in sys.stdin:
        if not line.strip():
            continue
        t = time.time()
        try:
            out = run(m, json.loads(line))
        except Exception as e:  # report, keep serving: the script decides what a failure means
            out = {"ok": False, "error": f"{type(e).__name__}: {e}"}
        out["secs"] = round(time.time() - t, 2)
        print(json.dumps(out), flush=True)
        if out.get("hung") or json.loads(line).get("cmd") == "quit":
            return 0
    return 0


if __name__ == "__main__":
    sys.exit(main())
