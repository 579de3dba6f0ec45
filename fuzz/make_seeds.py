#!/usr/bin/env python3
"""Writes the committed seed corpus fuzz/seeds/<target>/ from the project's test vectors
(tests/vectors/*.json, the cases in tests/*.rs and src/protocol unit tests) and the byte-exact
vectors of spec.md §2.12 and §5. Run from anywhere: python3 fuzz/make_seeds.py

Input formats (see each target's doc comment):
  b64, htu, jws, jwk: the text itself
  id_token, dpop: selector byte || token
  consumer: selector byte || id_token "\\n" proof
  oauth: selector byte (even) || status u16 BE || content-type index || dpop_nonce "\\n" body,
         or selector byte (odd) || callback URL
  passkey: selector byte (mode in the low 2 bits) || data; assertion data is
           u16 BE len(authenticatorData) || u16 BE len(clientDataJSON) || both || signature
"""
import base64
import hashlib
import json
import os
import shutil
import struct

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
OUT = os.path.join(ROOT, "fuzz", "seeds")


def b64e(b):
    return base64.urlsafe_b64encode(b).rstrip(b"=").decode()


def b64d(s):
    return base64.urlsafe_b64decode(s + "=" * (-len(s) % 4))


def load(name):
    with open(os.path.join(ROOT, "tests", "vectors", name)) as f:
        return json.load(f)


W = load("worked_example.json")
P = load("passkey_virtual.json")

seeds = {}


def seed(target, name, data):
    if isinstance(data, str):
        data = data.encode()
    seeds.setdefault(target, []).append((name, data))


def jws(header, payload, sig=b"sig"):
    h = header if isinstance(header, str) else json.dumps(header, separators=(",", ":"))
    p = payload if isinstance(payload, str) else json.dumps(payload, separators=(",", ":"))
    return f"{b64e(h.encode())}.{b64e(p.encode())}.{b64e(sig)}"


CLIENT_JWK = {"kty": "EC", "crv": "P-256", "x": "V8Ok_mX6-51HS6UDE5CB6Rjrg6qVknQ9OPm9ILHoj1M",
              "y": "hvF-K-t8abiAs-KSDQbmZlHOa_Z_Xt7aqQ70FHxW6Wg"}
KB_JWK = {"crv": "P-256", "kty": "EC", "x": "ukpv3fU6tqQKaUwcdBAQoK3IHvJIW__9yNd1oR7qvZc",
          "y": "nBBxXrx0Nziwg_evfUMUUgnGKKUf2ATpWG9EojnUoU4"}
RFC9449_JWK = {"kty": "EC", "crv": "P-256", "x": "l8tFrhx-34tV3hRICRDY9zCkDlpBhF42UQUfWVAWBFs",
               "y": "9VE4jf_Ok_o64zbTTlcuNJajHmt6v9TDVrU0CdvGRDA"}
OP_JWK = {"kty": "EC", "crv": "P-256", "x": "f2mEVtz-4D7TDq4D2cbLtq_wWMXEVum-ulZqGcuIIiE",
          "y": "U0RYaKMYkvBdnB6kV5c4t-ERaueOskEM__UuMq4psOk", "kid": "op-es256-2026-09", "use": "sig", "alg": "ES256"}
ED_JWK = {"kty": "OKP", "crv": "Ed25519", "x": "11qYAYKxCrfVS_7TyWQHOg7hcvPapiMlrwIaaPcHURo"}
RSA_JWK = P["jwks"]["keys"][0]
PASSKEY_JWK = P["public_jwk"]
P384_JWK = {"kty": "EC", "crv": "P-384", "x": "A" * 64, "y": "A" * 64}
P521_JWK = {"kty": "EC", "crv": "P-521", "x": "A" * 88, "y": "A" * 88}

TOKENS = [W["proof_token"], W["id_token"], W["proof_refresh"], W["id_token_refreshed"], W["proof_presentation"], P["id_token"]]

# ---- b64 ----------------------------------------------------------------------------------------
for i, t in enumerate(TOKENS[:2] + TOKENS[5:]):
    for j, part in enumerate(t.split(".")):
        seed("b64", f"part{i}{j}", part[:600])
for s in ["-_8", "", "AQAB", "dnfb1T9jil_gOhti60baHs_WD_a4D8JN9VDJXbmBmGw", P["salt"], P["client_data_json"],
          P["authenticator_data"], P["signature"], "-_8=", "AQ==", "+/8", "ab cd", "A", "AR", "Zm9v!"]:
    seed("b64", "s_" + hashlib.sha1(s.encode()).hexdigest()[:8], s)
seed("b64", "bin_authdata", b64d(P["authenticator_data"]))
seed("b64", "bin_ff", bytes([0xfb, 0xff, 0x00, 0x80]))

# ---- htu ----------------------------------------------------------------------------------------
for i, u in enumerate([
    "https://op.example.com/token", "HTTPS://OP.Example.COM/token", "https://op.example.com:443/token",
    "http://127.0.0.1:80/t", "http://127.0.0.1:8080/t", "https://op.example.com/token?x=1#frag",
    "https://op.example.com", "https://op.example.com?q", "https://op.example.com/a/./b/../c",
    "https://op.example.com/a/..", "https://op.example.com/%7Euser/%2f", "http://[::1]:8080/x",
    "http://[::1]:80/x", "https://op.example.com:/x", "https://op.example.com:0443/x",
    "https://api.app.example.com/v1/session", "http://localhost:42805", "https://user:pw@op.example.com/token",
    "https://op.example.com:99999/x", "https://op.example.com/%zz", "http://[zz]/x", "ftp://op.example.com/x",
    "https:///token", "https://op.example.com/a/%2e%2E/b/./%2F/.", "http://[::1/x",
]):
    seed("htu", f"url{i:02}", u)

# ---- jws ----------------------------------------------------------------------------------------
for i, t in enumerate(TOKENS):
    seed("jws", f"vector{i}", t)
seed("jws", "jwe", "eyJhbGciOiJSU0EtT0FFUCJ9.a.b.c.d")
seed("jws", "alg_none", jws({"alg": "none"}, {"sub": "x"}, b""))
seed("jws", "hs256", jws({"alg": "HS256"}, {"sub": "x"}))
seed("jws", "crit", jws({"alg": "ES256", "crit": ["exp"], "exp": 1}, {}))
seed("jws", "crit_null", jws('{"alg":"ES256","crit":null}', {}))
seed("jws", "rsa_jwk", jws({"typ": "dpop+jwt", "alg": "PS256", "jwk": {"kty": "RSA", "n": RSA_JWK["n"], "e": "AQAB"}}, {"jti": "a"}, b"\x01" * 256))
seed("jws", "ed_jwk", jws({"typ": "dpop+jwt", "alg": "EdDSA", "jwk": ED_JWK}, {"jti": "a"}, b"\x02" * 64))
seed("jws", "priv_jwk", jws({"alg": "ES256", "jwk": dict(CLIENT_JWK, d="EdiqAaCkaOmnDTOZuSzBCITGx2O7JLc3pV6ZTgtmwPs")}, {}))

# ---- jwk ----------------------------------------------------------------------------------------
jwks_fixture = {"keys": [OP_JWK, dict(RSA_JWK), dict(ED_JWK, kid="op-ed25519"), KB_JWK, dict(CLIENT_JWK, kid="enc", use="enc"),
                         {"kty": "EC", "crv": "secp256k1", "x": "AAAA", "y": "AAAA", "kid": "k1"}]}
for i, k in enumerate([CLIENT_JWK, KB_JWK, RFC9449_JWK, OP_JWK, ED_JWK, RSA_JWK, PASSKEY_JWK, P384_JWK, P521_JWK,
                       dict(CLIENT_JWK, d="EdiqAaCkaOmnDTOZuSzBCITGx2O7JLc3pV6ZTgtmwPs"), {"kty": "oct", "k": "AAAA"},
                       {"kty": "RSA", "n": RSA_JWK["n"], "e": "AQ"}, {"kty": "RSA", "n": "AQAB", "e": "AQAB"},
                       {"kty": "OKP", "crv": "X25519", "x": ED_JWK["x"]}]):
    seed("jwk", f"jwk{i:02}", json.dumps(k, separators=(",", ":")))
seed("jwk", "jwks_fixture", json.dumps(jwks_fixture, separators=(",", ":")))
seed("jwk", "jwks_passkey", json.dumps(P["jwks"], separators=(",", ":")))
seed("jwk", "jwks_empty", '{"keys":[]}')

# ---- id_token -----------------------------------------------------------------------------------
# selector: bit0 nonce expected, bit1 dpop_jkt expected, bit2 Preferred, bit4 extra aud,
# bit5 narrow algs, bits 6-7 the clock (t0+30, +3020, +3600, +7000).
for sel, tok, name in [(0x03, W["id_token"], "bound"), (0x02, W["id_token"], "bound_no_nonce"), (0x00, W["id_token"], "unbound_check"),
                       (0x42, W["id_token_refreshed"], "refreshed"), (0x06, TOKENS[5], "passkey_rs256"),
                       (0x17, jws({"alg": "ES256", "kid": "op-es256-2026-09", "typ": "JWT"},
                                  {"iss": "https://op.example.com", "sub": "s", "aud": ["s6BhdRkqt3", "other-client"], "exp": 1790003622, "iat": 1790000022,
                                   "nonce": "n-0S6_WzA2Mj-7c1e", "cnf": {"jkt": "mjISTkEqO_ed2ieOD6TnboBmWH5MmEEenSMQ-1lSZQ0"}}), "jkt_only")]:
    seed("id_token", name, bytes([sel]) + tok.encode())

# ---- dpop ---------------------------------------------------------------------------------------
# selector: low 2 bits the check (0 code, 1 refresh, 2 presentation, 3 odd htu), bit4 ES256 only, bit5 pinned jkt.
for sel, tok, name in [(0x20, W["proof_token"], "code"), (0x21, W["proof_refresh"], "refresh"),
                       (0x22, W["proof_presentation"], "presentation"), (0x03, W["proof_token"], "other_check"),
                       (0x00, jws({"typ": "dpop+jwt", "alg": "EdDSA", "jwk": ED_JWK},
                                  {"jti": "j", "htm": "POST", "htu": "https://op.example.com/token", "iat": 1790000020,
                                   "c_s256": "05q1XFlWXx0za6UwQ_p9Vax0JqaDhC_3A9PRsfWTs40"}, b"\x00" * 64), "eddsa")]:
    seed("dpop", name, bytes([sel]) + tok.encode())

# ---- consumer -----------------------------------------------------------------------------------
seed("consumer", "presentation", b"\x00" + f"{W['id_token_refreshed']}\n{W['proof_presentation']}".encode())
seed("consumer", "presentation_nonce_key", b"\x0a" + f"{W['id_token_refreshed']}\n{W['proof_presentation']}".encode())
seed("consumer", "wrong_token", b"\x00" + f"{W['id_token']}\n{W['proof_presentation']}".encode())
seed("consumer", "passkey", b"\x80" + P["id_token"].encode() + b"\n")
seed("consumer", "passkey_plain", b"\x90" + P["id_token"].encode() + b"\n")

# ---- oauth --------------------------------------------------------------------------------------
def http(status, ct, body, nonce="", flags=0):
    return bytes([flags & 0xFE]) + struct.pack(">H", status) + bytes([ct]) + f"{nonce}\n{body}".encode()


seed("oauth", "token", http(200, 1, json.dumps({"access_token": "SlAV32hkKG", "token_type": "Bearer", "expires_in": 3600,
                                                 "refresh_token": "8xLOxBtZp8-rt-1", "scope": "openid profile offline_access bound_key",
                                                 "id_token": W["id_token"][:120]})))
seed("oauth", "token_dpop", http(200, 2, '{"access_token":"Kz~8mXK1EalYznwH-LC-1fBAo.4Ljp~zsPE_NeO.gxU","token_type":"DPoP","expires_in":2.5}', "n-1"))
seed("oauth", "use_dpop_nonce", http(400, 1, '{"error":"use_dpop_nonce","error_description":"Authorization server requires nonce in DPoP proof"}',
                                     "eyJ7S_zG.eyJH0-Z.HX4w-7v"))
seed("oauth", "pending", http(400, 1, '{"error":"authorization_pending"}'))
seed("oauth", "slow_down", http(400, 4, '{"error":"slow_down"}'))
seed("oauth", "denied", http(403, 1, '{"error":"access_denied","error_description":"no"}'))
seed("oauth", "html", http(500, 5, "<html>oops</html>"))
seed("oauth", "par", http(201, 1, '{"request_uri":"urn:ietf:params:oauth:request_uri:6esc_11ACC5bwc014ltc14eY22c","expires_in":60}'))
seed("oauth", "discovery", http(200, 1, json.dumps({
    "issuer": "https://op.example.com", "authorization_endpoint": "https://op.example.com/authorize",
    "token_endpoint": "https://op.example.com/token", "device_authorization_endpoint": "https://op.example.com/device_authorization",
    "jwks_uri": "https://op.example.com/jwks", "scopes_supported": ["openid", "profile", "email", "offline_access", "bound_key"],
    "response_types_supported": ["code"], "id_token_signing_alg_values_supported": ["ES256", "RS256"],
    "dpop_signing_alg_values_supported": ["ES256", "PS256"], "code_challenge_methods_supported": ["S256"],
    "authorization_response_iss_parameter_supported": True}, separators=(",", ":"))))
seed("oauth", "discovery_local", http(200, 1, '{"issuer":"http://localhost:8080","authorization_endpoint":"http://localhost:8080/a","token_endpoint":"http://127.0.0.1:8080/t","jwks_uri":"http://localhost:8080/j"}'))
seed("oauth", "device", http(200, 1, '{"device_code":"GmRhmhcxhwAzkoEqiMEg_DnyEysNkuNhszIySk9eS","user_code":"059-461-148",'
                                     '"verification_uri":"https://op.example.com/device","verification_uri_complete":"https://op.example.com/device?u=059",'
                                     '"expires_in":1800,"interval":5}'))
for i, q in enumerate([
    "https://app.example.com/cb?code=Q3JkYXV0aGNvZGUtZXhhbXBsZS0wMDE&state=Hx3pQ9vZt1&iss=https%3A%2F%2Fop.example.com",
    "code=Q3JkYXV0aGNvZGUtZXhhbXBsZS0wMDE&state=Hx3pQ9vZt1",
    "?state=Hx3pQ9vZt1&iss=evil&iss=https%3A%2F%2Fop.example.com&code=x",
    "https://app.example.com/cb?error=access_denied&error_description=User+said+no&state=Hx3pQ9vZt1&iss=https%3A%2F%2Fop.example.com#frag",
]):
    seed("oauth", f"callback{i}", bytes([1 | (2 if i == 0 else 0)]) + q.encode())
# The odd-selector text is also read as a WWW-Authenticate value.
for i, h in enumerate([
    'DPoP error="use_dpop_nonce", algs="ES256"',
    'Bearer realm="api", error="invalid_token", error_description="use_dpop_nonce?", Negotiate abc+/==, DPoP algs="ES256 PS256"',
]):
    seed("oauth", f"challenge{i}", bytes([1]) + h.encode())

# ---- passkey ------------------------------------------------------------------------------------
def cbor_head(major, n):
    if n < 24:
        return bytes([major << 5 | n])
    for ai, fmt in [(24, ">B"), (25, ">H"), (26, ">I"), (27, ">Q")]:
        if n < 1 << (8 * struct.calcsize(fmt)):
            return bytes([major << 5 | ai]) + struct.pack(fmt, n)


def cbor(v):
    if isinstance(v, bool):
        return b"\xf5" if v else b"\xf4"
    if isinstance(v, int):
        return cbor_head(0, v) if v >= 0 else cbor_head(1, -1 - v)
    if isinstance(v, bytes):
        return cbor_head(2, len(v)) + v
    if isinstance(v, str):
        b = v.encode()
        return cbor_head(3, len(b)) + b
    if isinstance(v, list):
        return cbor_head(4, len(v)) + b"".join(cbor(x) for x in v)
    if isinstance(v, dict):
        return cbor_head(5, len(v)) + b"".join(cbor(k) + cbor(x) for k, x in v.items())
    raise TypeError(v)


ec_cose = cbor({1: 2, 3: -7, -1: 1, -2: b64d(PASSKEY_JWK["x"]), -3: b64d(PASSKEY_JWK["y"])})
ed_cose = cbor({1: 1, 3: -8, -1: 6, -2: b64d(ED_JWK["x"])})
rsa_cose = cbor({1: 3, 3: -257, -1: b64d(RSA_JWK["n"]), -2: b64d("AQAB")})
seed("passkey", "cose_ec2", b"\x00" + ec_cose)
seed("passkey", "cose_okp", b"\x00" + ed_cose)
seed("passkey", "cose_rsa", b"\x00" + rsa_cose)
seed("passkey", "cose_hmac", b"\x00" + cbor({1: 4, 3: 5, -1: b"k" * 16}))
cred = b64d(P["credential_id"])
auth_data = hashlib.sha256(P["rp_id"].encode()).digest() + b"\x45" + struct.pack(">I", 0) + bytes(16) + struct.pack(">H", len(cred)) + cred + ec_cose
seed("passkey", "attestation_none", b"\x01" + cbor({"fmt": "none", "attStmt": {}, "authData": auth_data}))
ed_auth = auth_data[:53] + struct.pack(">H", 4) + b"cred" + ed_cose
seed("passkey", "attestation_ed25519", b"\x01" + cbor({"fmt": "packed", "attStmt": {"alg": -8, "sig": b"\x00" * 64}, "authData": ed_auth}))
sig = b64d(P["signature"])
seed("passkey", "der_p256", b"\x02" + sig)
seed("passkey", "raw_p256", b"\x02" + bytes(range(64)))
seed("passkey", "raw_p384", b"\x06" + bytes([0xff]) + bytes(95))
seed("passkey", "raw_p521", b"\x0a" + bytes([0x01] + [0xff] * 131))
ad = b64d(P["authenticator_data"])
cd = b64d(P["client_data_json"])
# mode 3, key 0 (the passkey), UV required, previous sign count 0.
seed("passkey", "assertion", bytes([0x23]) + struct.pack(">HH", len(ad), len(cd)) + ad + cd + sig)
seed("passkey", "assertion_prev2", bytes([0xa3]) + struct.pack(">HH", len(ad), len(cd)) + ad + cd + sig)

# ---- write --------------------------------------------------------------------------------------
if os.path.isdir(OUT):
    for t in os.listdir(OUT):
        if os.path.isdir(os.path.join(OUT, t)):
            shutil.rmtree(os.path.join(OUT, t))
for target, items in sorted(seeds.items()):
    d = os.path.join(OUT, target)
    os.makedirs(d, exist_ok=True)
    for name, data in items:
        with open(os.path.join(d, name), "wb") as f:
            f.write(data)
    print(f"{target}: {len(items)} seeds, {sum(len(x) for _, x in items)} bytes")
