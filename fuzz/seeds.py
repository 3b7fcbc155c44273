#!/usr/bin/env python3
"""Writes the seed inputs of every fuzz target into fuzz/seeds/<target>/ from the committed JSON
vectors (crates/clerk-auth-vectors/vectors/*.json): requests, tokens (as claims the target
mints at run time, see fuzz/src/lib.rs), Backend API answers, configurations and patterns.

`fuzz/run.sh --seed` runs this, then minimises the seeds into fuzz/corpus/<target>/ (cargo fuzz
cmin); only the minimised corpus is committed.
"""

import hashlib
import json
import pathlib
import re
import sys

ROOT = pathlib.Path(__file__).resolve().parent
VECTORS = ROOT.parent / "crates" / "clerk-auth-conformance" / "vectors"
OUT = ROOT / "seeds"

written = {}


def write(target, data):
    if isinstance(data, str):
        data = data.encode("utf-8", "surrogatepass")
    d = OUT / target
    d.mkdir(parents=True, exist_ok=True)
    name = hashlib.sha1(data).hexdigest()[:16]
    (d / name).write_bytes(data)
    written[target] = written.get(target, 0) + 1


def compact(v):
    return json.dumps(v, separators=(",", ":"), ensure_ascii=False)


def config_line(env, cached):
    pk = env.get("CLERK_PUBLISHABLE_KEY", "")
    flags = ""
    if env.get("CLERK_IS_SATELLITE") == "true":
        shape = 2
    elif env.get("CLERK_PROXY_URL"):
        shape = 3
        if env["CLERK_PROXY_URL"].startswith("/"):
            flags += "r"
    elif env.get("CLERK_ACCEPTS_TOKEN"):
        shape = 4
    elif pk.startswith("pk_test_"):
        shape = 1
    else:
        shape = 0
    if pk.startswith("pk_test_"):
        flags += "l"
    if env.get("CLERK_AUTHORIZED_PARTIES"):
        flags += "a"
    if env.get("CLERK_AUDIENCE"):
        flags += "u"
    if env.get("CLERK_ORGANIZATION_PATTERNS") or env.get("CLERK_PERSONAL_ACCOUNT_PATTERNS"):
        flags += "o"
    if env.get("CLERK_SATELLITE_AUTO_SYNC") == "true":
        flags += "s"
    if cached:
        flags += "k"
    return f"C {shape}{flags}"


def placeholders(text, index):
    def repl(m):
        name = m.group(1)
        return "{T%d}" % index[name] if name in index else m.group(0)

    return re.sub(r"\{\{([A-Za-z0-9_]+)\}\}", repl, text)


def case_text(v, cached):
    tokens = v.get("tokens", {})
    index = {name: i for i, name in enumerate(sorted(tokens)) if i < 10}
    lines = [config_line(v.get("env", {}), cached)]
    req = v["request"]
    lines.append(f"Q {req.get('method', 'GET')} {placeholders(req['url'], index)}")
    for name, value in req.get("headers", []):
        lines.append(f"H {name}:{placeholders(value, index)}")
    for name, i in index.items():
        spec = tokens[name]
        if spec.get("raw") is not None:
            # A literal token: put it where the placeholder was.
            raw = spec["raw"]
            lines = [l.replace("{T%d}" % i, raw) for l in lines]
            continue
        tag = "X" if spec.get("foreign_key") else "T"
        lines.append(f"{tag}{i} {placeholders(compact(spec.get('claims', {})), index)}")
        if spec.get("header"):
            lines.append(f"K{i} {compact(spec['header'])}")
    bapi = v.get("bapi") or {}
    for directives in bapi.get("handshake_payload", {}).values():
        for d in directives:
            lines.append(f"D {placeholders(d, index)}")
    for c in bapi.get("refresh_cookies") or []:
        lines.append(f"R {placeholders(c, index)}")
    if bapi.get("refresh_error"):
        lines.append(f"RE {bapi['refresh_error'][0]} {bapi['refresh_error'][1]}")
    for m in bapi.get("machine_tokens", []):
        lines.append(f"M {compact(m['response'])}")
    for e in bapi.get("machine_errors", []):
        lines.append(f"ME {e['status']} {e.get('message') or 'error'}")
    return "\n".join(lines) + "\n"


def main():
    vectors = []
    for path in sorted(VECTORS.glob("*.json")):
        vectors.extend(json.loads(path.read_text()))

    for v in vectors:
        for cached in (True, False):
            text = case_text(v, cached)
            write("decision", text)
        # public_url only reads C, Q and H lines.
        write("public_url", "\n".join(l for l in case_text(v, True).split("\n") if l[:2] in ("C ", "Q ", "H ")))
        for name, value in v["request"].get("headers", []):
            if name == "authorization":
                write("authorization_header", value)
            if name == "cookie":
                write("cookie_header", b"\x00" + value.encode())
                write("cookie_header", b"\x03" + value.encode())
        env = v.get("env", {})
        if env:
            write("options_from_env", "\n".join(f"{k}={val}" for k, val in sorted(env.items()) if val != "{{PEM}}"))
            pk = env.get("CLERK_PUBLISHABLE_KEY")
            if pk:
                write("publishable_key", pk)
            sk = env.get("CLERK_SECRET_KEY")
            if sk:
                write("publishable_key", sk)
        org = env.get("CLERK_ORGANIZATION_PATTERNS"), env.get("CLERK_PERSONAL_ACCOUNT_PATTERNS")
        if any(org):
            pats = [p for p in (org[0] or "").split(",") if p] + ["!" + p for p in (org[1] or "").split(",") if p]
            url = v["request"]["url"]
            path = "/" + url.split("://", 1)[-1].split("/", 1)[-1].split("?")[0] if "://" in url else url
            write("org_sync_patterns", "\n".join(pats) + "\n\n" + path + "\n/orgs/acme\n/me\n")
        for spec in v.get("tokens", {}).values():
            if spec.get("raw") is not None:
                write("jwt_decode", spec["raw"])
                continue
            header = {"alg": "RS256", "cat": "cl_B7d4PD111AAA", "kid": "ins_2test", "typ": "JWT"}
            header.update({k: val for k, val in spec.get("header", {}).items()})
            header = {k: val for k, val in header.items() if val is not None}
            claims = {"azp": "http://localhost:3000", "exp": 1700000060, "iat": 1700000000,
                      "iss": "https://clerk.example.com", "nbf": 1699999990, "sid": "sess_2test",
                      "sub": "user_2test"}
            for k, val in spec.get("claims", {}).items():
                if isinstance(val, str) and val.startswith("$now"):
                    off = val[4:]
                    val = 1700000000 + (int(off) if off else 0)
                claims[k] = val
            claims = {k: val for k, val in claims.items() if val is not None}
            write("jwt_decode", "S\n" + compact(header) + "\n" + compact(claims))
        for m in (v.get("bapi") or {}).get("machine_tokens", []):
            write("backend_api_answers", b"\x00\x00" + compact(m["response"]).encode())
        for directives in ((v.get("bapi") or {}).get("handshake_payload") or {}).values():
            write("backend_api_answers", b"\x00\x00" + compact({"directives": directives}).encode())
        if (v.get("bapi") or {}).get("refresh_cookies"):
            write("backend_api_answers", b"\x00\x00" + compact({"cookies": v["bapi"]["refresh_cookies"]}).encode())

    # Shapes the vectors do not show.
    write("backend_api_answers", b"\x00\x00" + compact({"keys": [{"kid": "ins_2test", "kty": "RSA", "alg": "RS256", "use": "sig", "n": "sXchDaQebHnPiGvyDOAT4saGEUetSyo9MKLOoWFsueri23bOdgWp4Dy1WlUzewbgBHod5pcM9H95GQRV3JDXboIRROSBigeC5yjU1hGzHHyXss8UDprecbAYxknTcQkhslANGRUZmdTOQ5qTRsLAt6BTYuyvVRdhS8exSZEy_c4gs_7svlJJQ4H9_NxsiIoLwAEk7-Q3UXERGYw_75IDrGA84-lA_-Ct4eTlXHBIY2EaV7t7LjJaynVJCpkv4LKjTTAumiGUIuQhrNhZLuF_RJLqHpM2kgWFLU7-VTdL1VbC2tejvcI2BlMkEpk1BzBZI0KQB0GaDWFLN-aEAw3vRw", "e": "AQAB"}]}).encode())
    write("backend_api_answers", b"\x81\xf5" + compact({"errors": [{"code": "clerk_key_invalid", "message": "Secret key invalid"}]}).encode())
    write("backend_api_answers", b"\x00\x00" + compact({"keys": [{"kid": "k", "kty": "EC", "crv": "P-256", "x": "AAAA", "y": "AAAA"}]}).encode())
    write("authorization_header", "Bearer")
    write("authorization_header", "Basic dXNlcjpwYXNz")
    write("authorization_header", "bearer  x")
    write("cookie_header", b"\x00__session=a; __session_KGDbGsv-=b; __client_uat=%31%30; __client_uat_KGDbGsv-=0")
    write("publishable_key", "pk_live_Y2xlcmsuZXhhbXBsZS5jb20k")
    write("publishable_key", "pk_test_Y2xlcmsuZXhhbXBsZS5jb20k")
    write("publishable_key", "pk_live_Y2xlcmsuJA==")
    write("org_sync_patterns", "/orgs/:slug\n/orgs/:slug/(.*)\n/orgs/id/:id\n!/me\n!/me/(.*)\n\n/orgs/acme/settings\n/orgs/id/org_123\n/me/profile\n")
    write("org_sync_patterns", "/a{/:b}?/c/:d([0-9]+)\n!/p/*rest\n\n/a/b/c/12\n/p/x/y\n")
    write("options_from_env", "SECRET_KEY=sk_live_x\nPUBLISHABLE_KEY=pk_live_Y2xlcmsuZXhhbXBsZS5jb20k\nCLOCK_SKEW_MS=5000\nACCEPTS_TOKEN=api_key,m2m_token\nIS_SATELLITE=true\nDOMAIN=sat.example.com\nSIGN_IN_URL=https://primary.example.com/sign-in\nORGANIZATION_PATTERNS=/orgs/:slug\n")
    for target, count in sorted(written.items()):
        print(f"{target}: {count} seeds", file=sys.stderr)


if __name__ == "__main__":
    main()
