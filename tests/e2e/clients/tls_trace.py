#!/usr/bin/python3
"""Reads the `openssl s_server -trace` log of a test server and prints, for each TLS handshake
the server saw (one per ClientHello it received), what the SERVER observed:

    hs=N version=TLSv1.3 scheme=rsa_pss_rsae_sha256 cert=present serial=7c:e7:... subject=... alert=-

version  the version the server chose (ServerHello supported_versions, else server_version)
scheme   the signature scheme of the client's CertificateVerify ("-" if none was received)
cert     present / empty (the client answered the CertificateRequest with no certificate) / -
serial, subject  of the client's (first) certificate
alert    the fatal alert the server sent, if any (e.g. certificate_required(116))

Usage: tls_trace.py LOG [SKIP]   (SKIP: ignore the first SKIP handshakes, to look at new ones only)
"""
import re
import sys

VERSIONS = {"0x304": "TLSv1.3", "0x303": "TLSv1.2", "0x302": "TLSv1.1", "0x301": "TLSv1.0",
            "772": "TLSv1.3", "771": "TLSv1.2"}
# OpenSSL 3.0's trace names 116 "unknown" (RFC 8446 §6.2: certificate_required)
ALERTS = {"116": "certificate_required", "40": "handshake_failure", "42": "bad_certificate",
          "48": "unknown_ca", "51": "decrypt_error", "70": "protocol_version"}


def parse(lines):
    hss = []
    cur = None
    direction = None
    ctx = None          # the handshake message being read
    in_details = False  # inside the "------details-----" dump of a received certificate
    for raw in lines:
        line = raw.rstrip("\n")
        s = line.strip()
        if s in ("Received Record", "Sent Record"):
            direction = s.split()[0]
            ctx = None
            continue
        m = re.match(r"(\w+), Length=(\d+)$", s)
        if m:
            ctx = (direction, m.group(1))
            in_details = False
            if ctx == ("Received", "ClientHello"):
                cur = {"version": "-", "scheme": "-", "cert": "-", "serial": "-",
                       "subject": "-", "alert": "-"}
                hss.append(cur)
            elif ctx == ("Received", "Certificate") and cur is not None:
                cur["cert"] = "present"
            continue
        if cur is not None and direction == "Sent":
            m = re.match(r"Level=fatal\(2\), description=(.+)\((\d+)\)$", s)
            if m:
                name = ALERTS.get(m.group(2), m.group(1).replace(" ", "_"))
                cur["alert"] = f"{name}({m.group(2)})"
        if cur is None or ctx is None:
            continue
        if ctx == ("Sent", "ServerHello"):
            m = re.match(r"server_version=(0x[0-9a-fA-F]+)", s)
            if m and cur["version"] == "-":
                cur["version"] = VERSIONS.get(m.group(1), m.group(1))
            m = re.match(r"TLS 1\.(\d) \((\d+)\)$", s)  # the supported_versions extension wins
            if m:
                cur["version"] = VERSIONS.get(m.group(2), "TLSv1." + m.group(1))
        elif ctx == ("Received", "Certificate"):
            if re.match(r"certificate_list, length=0$", s):
                cur["cert"] = "empty"
            elif s == "------details-----":
                in_details = True
            elif in_details and cur["serial"] == "-" and s.startswith("Serial Number:"):
                rest = s[len("Serial Number:"):].strip()
                cur["serial"] = rest if rest else "?"
            elif in_details and cur["serial"] == "?" and re.match(r"^[0-9a-f:]+$", s):
                cur["serial"] = s
            elif in_details and cur["subject"] == "-" and s.startswith("Subject:"):
                cur["subject"] = s[len("Subject:"):].strip()
        elif ctx == ("Received", "CertificateVerify"):
            m = re.match(r"Signature Algorithm: (\S+)", s)
            if m and cur["scheme"] == "-":
                cur["scheme"] = m.group(1)
    return hss


def main():
    path = sys.argv[1]
    skip = int(sys.argv[2]) if len(sys.argv) > 2 else 0
    with open(path, encoding="utf-8", errors="replace") as f:
        hss = parse(f)
    for i, h in enumerate(hss):
        if i < skip:
            continue
        print(f"hs={i + 1} version={h['version']} scheme={h['scheme']} cert={h['cert']} "
              f"serial={h['serial']} alert={h['alert']} subject={h['subject']}")


if __name__ == "__main__":
    main()
