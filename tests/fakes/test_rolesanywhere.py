#!/usr/bin/env python3
"""Self-test of the CreateSession fake: run as `python3 tests/fakes/test_rolesanywhere.py`.

Starts moto and the fake on 127.0.0.1, makes the PKI with make-pki.sh (and a SoftHSM2 token with
make-softhsm.sh) in a temporary directory, and signs requests with its own small SigV4-X509
signer below, written from the service's documentation and independent of the fake's code. Shows
that good signatures from every key kind are accepted with credentials moto takes, and that each
single fault is refused with the service's status and error type. Prints `N passed, M failed`
and exits non-zero on any failure.
"""

import base64
import datetime
import hashlib
import http.client
import json
import os
import re
import socket
import ssl
import subprocess
import sys
import tempfile
import threading
import time
import traceback
import urllib.request

import boto3
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec, padding, rsa

HERE = os.path.dirname(os.path.abspath(__file__))
REGION = "us-east-1"
ACCOUNT = "123456789012"
TRUST_ANCHOR = f"arn:aws:rolesanywhere:{REGION}:{ACCOUNT}:trust-anchor/" \
    "0b5a9f3e-1c2d-4e5f-8a9b-0c1d2e3f4a5b"
EU_TRUST_ANCHOR = f"arn:aws:rolesanywhere:eu-west-1:{ACCOUNT}:trust-anchor/" \
    "1c6b0a4f-2d3e-4f60-9bac-1d2e3f4a5b6c"
UNKNOWN_TRUST_ANCHOR = f"arn:aws:rolesanywhere:{REGION}:{ACCOUNT}:trust-anchor/" \
    "2d7c1b50-3e4f-4071-8cbd-2e3f4a5b6c7d"
PROFILE = f"arn:aws:rolesanywhere:{REGION}:{ACCOUNT}:profile/" \
    "3e8d2c61-4f50-4182-9dce-3f4a5b6c7d8e"
UNKNOWN_PROFILE = f"arn:aws:rolesanywhere:{REGION}:{ACCOUNT}:profile/" \
    "4f9e3d72-5061-4293-8edf-4a5b6c7d8e9f"
ROLE = f"arn:aws:iam::{ACCOUNT}:role/awsenv-ra-test"
SECOND_ROLE = f"arn:aws:iam::{ACCOUNT}:role/path/awsenv-ra-second"
OTHER_ROLE = f"arn:aws:iam::{ACCOUNT}:role/not-in-profile"
UNRESERVED = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_.~"
ISO_Z = re.compile(r"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ$")


# ---- an independent SigV4-X509 signer ------------------------------------------------------

def query_encode(text):
    out = []
    for char in text:
        if char in UNRESERVED:
            out.append(char)
        else:
            out.extend(f"%{byte:02X}" for byte in char.encode("utf-8"))
    return "".join(out)


class Identity:
    """A certificate, its intermediates and a way to sign with its private key."""

    def __init__(self, cert_path, key_path=None, chain_path=None, password=None, sign=None):
        with open(cert_path, "rb") as handle:
            self.cert = x509.load_pem_x509_certificate(handle.read())
        self.chain = []
        if chain_path:
            with open(chain_path, "rb") as handle:
                self.chain = x509.load_pem_x509_certificates(handle.read())
        self.key = None
        if key_path:
            with open(key_path, "rb") as handle:
                pem = handle.read()
            block = re.search(rb"-----BEGIN ([A-Z ]*PRIVATE KEY)-----.*?-----END \1-----", pem,
                              re.S)
            self.key = serialization.load_pem_private_key(block.group(0), password=password)
        self.external_sign = sign

    def kind(self):
        return "RSA" if isinstance(self.cert.public_key(), rsa.RSAPublicKey) else "EC"

    def sign(self, message):
        if self.external_sign:
            return self.external_sign(message)
        if isinstance(self.key, rsa.RSAPrivateKey):
            return self.key.sign(message, padding.PKCS1v15(), hashes.SHA256())
        return self.key.sign(message, ec.ECDSA(hashes.SHA256()))


def der_b64(cert):
    return base64.b64encode(cert.public_bytes(serialization.Encoding.DER)).decode()


def build(identity, host, params=None, body=None, when=None, scope_region=REGION, serial=None,
          algorithm=None, send_chain=True, signed=None):
    """(target, [(name, value)], body) for a CreateSession request signed as the service says."""
    params = params or {"profileArn": PROFILE, "roleArn": ROLE, "trustAnchorArn": TRUST_ANCHOR}
    body = b'{"durationSeconds":3600}' if body is None else body
    when = when or datetime.datetime.now(datetime.timezone.utc)
    amz_date = when.strftime("%Y%m%dT%H%M%SZ")
    headers = {"content-type": "application/json", "host": host, "x-amz-date": amz_date,
               "x-amz-x509": der_b64(identity.cert)}
    if send_chain and identity.chain:
        headers["x-amz-x509-chain"] = ",".join(der_b64(cert) for cert in identity.chain)
    names = sorted(headers) if signed is None else signed
    query = "&".join(sorted(f"{query_encode(k)}={query_encode(v)}" for k, v in params.items()))
    canonical = "POST\n/sessions\n" + query + "\n" + \
        "".join(f"{name}:{headers[name]}\n" for name in names) + "\n" + \
        ";".join(names) + "\n" + hashlib.sha256(body).hexdigest()
    algorithm = algorithm or {"RSA": "AWS4-X509-RSA-SHA256",
                              "EC": "AWS4-X509-ECDSA-SHA256"}[identity.kind()]
    scope = f"{amz_date[:8]}/{scope_region}/rolesanywhere/aws4_request"
    to_sign = f"{algorithm}\n{amz_date}\n{scope}\n" + \
        hashlib.sha256(canonical.encode()).hexdigest()
    signature = identity.sign(to_sign.encode()).hex()
    serial = str(identity.cert.serial_number) if serial is None else serial
    wire = [("Content-Type", headers["content-type"]), ("Host", host),
            ("X-Amz-Date", amz_date), ("X-Amz-X509", headers["x-amz-x509"])]
    if "x-amz-x509-chain" in headers:
        wire.append(("X-Amz-X509-Chain", headers["x-amz-x509-chain"]))
    wire.append(("User-Agent", "awsenv-selftest/1"))
    wire.append(("Authorization", f"{algorithm} Credential={serial}/{scope}, "
                                  f"SignedHeaders={';'.join(names)}, Signature={signature}"))
    target = "/sessions?" + "&".join(f"{k}={query_encode(v)}" for k, v in params.items())
    return target, wire, body


def replace_header(wire, name, value):
    return [(k, value if k.lower() == name.lower() else v) for k, v in wire]


# ---- processes and HTTP -------------------------------------------------------------------

def free_port():
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


class Endpoint:
    def __init__(self, port, tls_context=None):
        self.port, self.tls_context = port, tls_context
        self.host = f"127.0.0.1:{port}"

    def connect(self):
        if self.tls_context:
            return http.client.HTTPSConnection("127.0.0.1", self.port, timeout=30,
                                               context=self.tls_context)
        return http.client.HTTPConnection("127.0.0.1", self.port, timeout=30)

    def send(self, method, target, headers, body=b"", connection=None):
        conn = connection or self.connect()
        conn.putrequest(method, target, skip_host=True, skip_accept_encoding=True)
        for name, value in headers:
            conn.putheader(name, value)
        conn.putheader("Content-Length", str(len(body)))
        conn.endheaders(body)
        response = conn.getresponse()
        data = response.read()
        if connection is None:
            conn.close()
        return response.status, response.headers, data

    def post(self, request, connection=None):
        target, headers, body = request
        return self.send("POST", target, headers, body, connection)

    def control(self, method, path, document=None):
        body = json.dumps(document).encode() if document is not None else b""
        status, _, data = self.send(method, path, [("Host", self.host)], body)
        assert status == 200, (status, data)
        return json.loads(data)


def start_fake(args):
    process = subprocess.Popen(
        [sys.executable, os.path.join(HERE, "rolesanywhere.py"), "--port", "0", *args],
        stdout=subprocess.PIPE, text=True)
    line = process.stdout.readline()
    match = re.fullmatch(r"listening on 127\.0\.0\.1:(\d+)\n", line)
    assert match, f"the fake's first line was {line!r}"
    return process, int(match.group(1))


# ---- checks -------------------------------------------------------------------------------

def expect_refusal(answer, status, error_type, message_part=""):
    got_status, headers, data = answer
    assert got_status == status, f"status {got_status}, wanted {status}: {data!r}"
    assert headers.get("x-amzn-ErrorType") == error_type, \
        f"x-amzn-ErrorType {headers.get('x-amzn-ErrorType')!r}, wanted {error_type}: {data!r}"
    assert headers.get("Content-Type") == "application/json"
    document = json.loads(data)
    assert list(document) == ["message"] and isinstance(document["message"], str), document
    assert message_part.lower() in document["message"].lower(), \
        f"{message_part!r} not in {document['message']!r}"


def expect_session(answer, identity, role=ROLE, session_name=None, duration=3600):
    status, headers, data = answer
    assert status == 201, f"status {status}: {data!r}"
    assert headers.get("Content-Type") == "application/json"
    document = json.loads(data)
    assert sorted(document) == ["credentialSet", "subjectArn"], document
    assert re.fullmatch(rf"arn:aws:rolesanywhere:{REGION}:{ACCOUNT}:subject/[0-9a-f-]{{36}}",
                        document["subjectArn"]), document["subjectArn"]
    assert len(document["credentialSet"]) == 1
    entry = document["credentialSet"][0]
    assert sorted(entry) == ["assumedRoleUser", "credentials", "packedPolicySize", "roleArn",
                             "sourceIdentity"], entry
    assert sorted(entry["assumedRoleUser"]) == ["arn", "assumedRoleId"]
    assert sorted(entry["credentials"]) == ["accessKeyId", "expiration", "secretAccessKey",
                                            "sessionToken"]
    assert entry["roleArn"] == role and isinstance(entry["packedPolicySize"], int)
    cn = identity.cert.subject.get_attributes_for_oid(x509.NameOID.COMMON_NAME)[0].value
    assert entry["sourceIdentity"] == cn, entry["sourceIdentity"]
    creds = entry["credentials"]
    assert ISO_Z.match(creds["expiration"]), creds["expiration"]
    expires = datetime.datetime.strptime(creds["expiration"], "%Y-%m-%dT%H:%M:%SZ").replace(
        tzinfo=datetime.timezone.utc)
    left = (expires - datetime.datetime.now(datetime.timezone.utc)).total_seconds()
    assert duration - 120 < left <= duration + 5, f"{left} s left, asked {duration}"
    serial_hex = identity.cert.serial_number.to_bytes(
        (identity.cert.serial_number.bit_length() + 7) // 8, "big").hex()
    name = session_name or serial_hex
    role_name = role.rsplit("/", 1)[1]
    assert entry["assumedRoleUser"]["arn"].endswith(f":assumed-role/{role_name}/{name}"), entry
    sts = boto3.session.Session().client(
        "sts", endpoint_url=MOTO_URL, region_name=REGION,
        aws_access_key_id=creds["accessKeyId"], aws_secret_access_key=creds["secretAccessKey"],
        aws_session_token=creds["sessionToken"])
    caller = sts.get_caller_identity()
    assert caller["Arn"] == f"arn:aws:sts::{ACCOUNT}:assumed-role/{role_name}/{name}", caller
    return document


TESTS = []


def test(function):
    TESTS.append(function)
    return function


def pki(name):
    return os.path.join(PKI, name)


def ident(name, **kwargs):
    return Identity(pki(f"{name}.pem"), pki(f"{name}.key"), **kwargs)


@test
def rsa2048_pkcs1_accepted():
    identity = ident("rsa2048")
    expect_session(FAKE.post(build(identity, FAKE.host)), identity)


@test
def rsa4096_pkcs8_accepted():
    identity = ident("rsa4096")
    expect_session(FAKE.post(build(identity, FAKE.host)), identity)


@test
def p256_sec1_accepted():
    identity = ident("p256")
    expect_session(FAKE.post(build(identity, FAKE.host)), identity)


@test
def p384_pkcs8_accepted():
    identity = ident("p384")
    expect_session(FAKE.post(build(identity, FAKE.host)), identity)


@test
def intermediate_chain_accepted():
    identity = ident("chained", chain_path=pki("chained-intermediates.pem"))
    answer = FAKE.post(build(identity, FAKE.host))
    expect_session(answer, identity)
    last = FAKE.control("GET", "/_fake/calls")["calls"][-1]
    assert last["chainLength"] == 1 and "x-amz-x509-chain" in last["signedHeaders"], last


@test
def encrypted_pkcs8_and_combined_pem_accepted():
    with open(pki("encrypted.pass"), "rb") as handle:
        password = handle.read()
    identity = ident("encrypted", password=password)
    expect_session(FAKE.post(build(identity, FAKE.host)), identity)
    combined = Identity(pki("combined.pem"), pki("combined.pem"))
    expect_session(FAKE.post(build(combined, FAKE.host)), combined)


@test
def session_name_second_role_and_durations_honoured():
    identity = ident("p256")
    params = {"trustAnchorArn": TRUST_ANCHOR, "profileArn": PROFILE, "roleArn": SECOND_ROLE}
    body = b'{"durationSeconds":900,"roleSessionName":"awsenv@ci=1,x.y-z+w"}'
    expect_session(FAKE.post(build(identity, FAKE.host, params=params, body=body)), identity,
                   role=SECOND_ROLE, session_name="awsenv@ci=1,x.y-z+w", duration=900)
    body = b'{"durationSeconds":43200}'
    expect_session(FAKE.post(build(identity, FAKE.host, body=body)), identity, duration=43200)


@test
def pkcs11_token_key_accepted():
    env = dict(os.environ, SOFTHSM2_CONF=HSM["SOFTHSM2_CONF"])

    def token_sign(message):
        with tempfile.TemporaryDirectory() as scratch:
            source, target = os.path.join(scratch, "in"), os.path.join(scratch, "out")
            with open(source, "wb") as handle:
                handle.write(message)
            subprocess.run(["pkcs11-tool", "--module", HSM["PKCS11_MODULE"], "--token-label",
                            "awsenv", "--login", "--pin", HSM["PKCS11_PIN"], "--sign",
                            "--mechanism", "SHA256-RSA-PKCS", "--id", "01", "--input-file",
                            source, "--output-file", target], env=env, check=True,
                           stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
            with open(target, "rb") as handle:
                return handle.read()

    identity = Identity(pki("hsm.pem"), sign=token_sign)
    expect_session(FAKE.post(build(identity, FAKE.host)), identity)


@test
def https_endpoint_accepts():
    identity = ident("rsa2048")
    expect_session(TLS_FAKE.post(build(identity, TLS_FAKE.host)), identity)


@test
def keep_alive_connection_serves_two_calls():
    identity = ident("p256")
    connection = FAKE.connect()
    expect_refusal(FAKE.post(build(identity, FAKE.host, body=b'{"durationSeconds":1}'),
                             connection), 400, "ValidationException", "durationSeconds")
    expect_session(FAKE.post(build(identity, FAKE.host), connection), identity)
    connection.close()


@test
def wrong_key_refused():
    identity = ident("mismatched")
    expect_refusal(FAKE.post(build(identity, FAKE.host)), 403, "AccessDeniedException",
                   "signature")


@test
def tampered_signed_header_refused():
    identity = ident("rsa2048")
    target, headers, body = build(identity, FAKE.host)
    later = (datetime.datetime.now(datetime.timezone.utc) + datetime.timedelta(seconds=2))
    headers = replace_header(headers, "X-Amz-Date", later.strftime("%Y%m%dT%H%M%SZ"))
    expect_refusal(FAKE.post((target, headers, body)), 403, "AccessDeniedException",
                   "signature")
    target, headers, body = build(identity, FAKE.host)
    headers = replace_header(headers, "Content-Type", "application/json; charset=utf-8")
    expect_refusal(FAKE.post((target, headers, body)), 403, "AccessDeniedException",
                   "signature")


@test
def tampered_query_refused():
    identity = ident("p384")
    target, headers, body = build(identity, FAKE.host)
    target = target.replace(query_encode(ROLE), query_encode(SECOND_ROLE))
    expect_refusal(FAKE.post((target, headers, body)), 403, "AccessDeniedException",
                   "signature")


@test
def changed_body_refused():
    identity = ident("p256")
    target, headers, _ = build(identity, FAKE.host, body=b'{"durationSeconds":3600}')
    expect_refusal(FAKE.post((target, headers, b'{"durationSeconds":3601}')), 403,
                   "AccessDeniedException", "signature")


@test
def stale_and_future_dates_refused():
    identity = ident("rsa2048")
    now = datetime.datetime.now(datetime.timezone.utc)
    stale = build(identity, FAKE.host, when=now - datetime.timedelta(minutes=6))
    expect_refusal(FAKE.post(stale), 403, "AccessDeniedException", "expired")
    future = build(identity, FAKE.host, when=now + datetime.timedelta(minutes=6))
    expect_refusal(FAKE.post(future), 403, "AccessDeniedException", "not yet current")
    recent = build(identity, FAKE.host, when=now - datetime.timedelta(minutes=4))
    expect_session(FAKE.post(recent), identity)


@test
def configured_clock_skew_refuses_current_date():
    identity = ident("p256")
    FAKE.control("POST", "/_fake/config", {"clockSkewSeconds": 600})
    try:
        expect_refusal(FAKE.post(build(identity, FAKE.host)), 403, "AccessDeniedException",
                       "expired")
        skewed = datetime.datetime.now(datetime.timezone.utc) + datetime.timedelta(minutes=10)
        expect_session(FAKE.post(build(identity, FAKE.host, when=skewed)), identity)
    finally:
        FAKE.control("POST", "/_fake/config", {"clockSkewSeconds": 0})


@test
def certificate_outside_trust_anchor_refused():
    for name in ("unrelated", "impostor"):
        expect_refusal(FAKE.post(build(ident(name), FAKE.host)), 403, "AccessDeniedException",
                       "untrusted signing certificate")
    chained = ident("chained", chain_path=pki("chained-intermediates.pem"))
    expect_refusal(FAKE.post(build(chained, FAKE.host, send_chain=False)), 403,
                   "AccessDeniedException", "untrusted signing certificate")


@test
def expired_and_not_yet_valid_refused():
    expect_refusal(FAKE.post(build(ident("expired"), FAKE.host)), 403, "AccessDeniedException",
                   "expired at")
    expect_refusal(FAKE.post(build(ident("notyetvalid"), FAKE.host)), 403,
                   "AccessDeniedException", "not yet valid")


@test
def wrong_region_in_scope_refused():
    expect_refusal(FAKE.post(build(ident("rsa2048"), FAKE.host, scope_region="eu-west-1")), 403,
                   "AccessDeniedException", "region")


@test
def wrong_serial_in_credential_refused():
    identity = ident("rsa2048")
    hex_serial = format(identity.cert.serial_number, "X")
    expect_refusal(FAKE.post(build(identity, FAKE.host, serial=hex_serial)), 403,
                   "AccessDeniedException", "serial")
    other = str(ident("rsa4096").cert.serial_number)
    expect_refusal(FAKE.post(build(identity, FAKE.host, serial=other)), 403,
                   "AccessDeniedException", "serial")


@test
def mismatched_algorithm_refused():
    expect_refusal(FAKE.post(build(ident("rsa2048"), FAKE.host,
                                   algorithm="AWS4-X509-ECDSA-SHA256")),
                   403, "AccessDeniedException", "does not match")
    expect_refusal(FAKE.post(build(ident("p256"), FAKE.host, algorithm="AWS4-X509-RSA-SHA256")),
                   403, "AccessDeniedException", "does not match")
    expect_refusal(FAKE.post(build(ident("p256"), FAKE.host, algorithm="AWS4-HMAC-SHA256")),
                   403, "AccessDeniedException", "unsupported signing algorithm")


@test
def incomplete_signed_headers_refused():
    identity = ident("chained", chain_path=pki("chained-intermediates.pem"))
    names = ["content-type", "host", "x-amz-date", "x-amz-x509"]
    expect_refusal(FAKE.post(build(identity, FAKE.host, signed=names)), 403,
                   "AccessDeniedException", "x-amz-x509-chain")
    expect_refusal(FAKE.post(build(ident("p256"), FAKE.host, signed=names[:3])), 403,
                   "AccessDeniedException", "x-amz-x509")
    unsorted = ["host", "content-type", "x-amz-date", "x-amz-x509"]
    expect_refusal(FAKE.post(build(ident("p256"), FAKE.host, signed=unsorted)), 403,
                   "AccessDeniedException", "sorted")


@test
def unknown_resources_and_roles_refused():
    identity = ident("p256")
    good = {"profileArn": PROFILE, "roleArn": ROLE, "trustAnchorArn": TRUST_ANCHOR}
    cases = [
        (dict(good, trustAnchorArn=UNKNOWN_TRUST_ANCHOR), 404, "ResourceNotFoundException",
         "trust anchor"),
        (dict(good, profileArn=UNKNOWN_PROFILE), 404, "ResourceNotFoundException", "profile"),
        (dict(good, roleArn=OTHER_ROLE), 403, "AccessDeniedException", "unable to assume role"),
        (dict(good, trustAnchorArn=EU_TRUST_ANCHOR), 400, "ValidationException", "region"),
        ({"profileArn": PROFILE, "roleArn": ROLE}, 400, "ValidationException",
         "trustAnchorArn"),
    ]
    for params, status, error_type, part in cases:
        expect_refusal(FAKE.post(build(identity, FAKE.host, params=params)), status, error_type,
                       part)


@test
def invalid_bodies_refused():
    identity = ident("p384")
    for body in (b'{"durationSeconds":899}', b'{"durationSeconds":43201}'):
        expect_refusal(FAKE.post(build(identity, FAKE.host, body=body)), 400,
                       "ValidationException", "durationSeconds")
    for name in ("a", "has space", "x" * 65, "slash/no"):
        body = json.dumps({"durationSeconds": 3600, "roleSessionName": name}).encode()
        expect_refusal(FAKE.post(build(identity, FAKE.host, body=body)), 400,
                       "ValidationException", "roleSessionName")


@test
def calls_are_counted_without_secrets():
    FAKE.control("POST", "/_fake/reset")
    identity = ident("rsa2048")
    status, _, data = FAKE.post(build(identity, FAKE.host,
                                      body=b'{"durationSeconds":1800,"roleSessionName":"me"}'))
    assert status == 201, data
    secret = json.loads(data)["credentialSet"][0]["credentials"]
    expect_refusal(FAKE.post(build(ident("expired"), FAKE.host)), 403, "AccessDeniedException")
    calls = FAKE.control("GET", "/_fake/calls")
    assert calls["successful"] == 1 and calls["refused"] == 1, calls
    first, second = calls["calls"]
    assert first["status"] == 201 and second["status"] == 403, calls
    assert first["query"] == {"profileArn": PROFILE, "roleArn": ROLE,
                              "trustAnchorArn": TRUST_ANCHOR}, first
    assert first["signedHeaders"] == ["content-type", "host", "x-amz-date", "x-amz-x509"]
    assert first["durationSeconds"] == 1800 and first["roleSessionName"] == "me", first
    assert first["serial"] == str(identity.cert.serial_number), first
    assert first["algorithm"] == "AWS4-X509-RSA-SHA256", first
    assert second["errorType"] == "AccessDeniedException", second
    text = json.dumps(calls)
    for value in (secret["secretAccessKey"], secret["sessionToken"], secret["accessKeyId"]):
        assert value not in text, "a credential leaked into /_fake/calls"
    FAKE.control("POST", "/_fake/reset")
    calls = FAKE.control("GET", "/_fake/calls")
    assert calls == {"successful": 0, "refused": 0, "maxInFlight": 0, "calls": []}, calls


@test
def delay_shows_parallel_callers():
    FAKE.control("POST", "/_fake/reset")
    config = FAKE.control("POST", "/_fake/config", {"delaySeconds": 1})
    assert config["delaySeconds"] == 1, config
    identity = ident("p256")
    answers = []

    def call():
        answers.append(FAKE.post(build(identity, FAKE.host))[0])

    started = time.monotonic()
    threads = [threading.Thread(target=call) for _ in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    elapsed = time.monotonic() - started
    calls = FAKE.control("GET", "/_fake/calls")
    assert answers == [201] * 4, answers
    assert calls["successful"] == 4 and calls["maxInFlight"] == 4, calls
    assert elapsed >= 1, f"4 calls delayed by 1 s took {elapsed:.2f} s"
    FAKE.control("POST", "/_fake/reset")
    assert FAKE.control("GET", "/_fake/config")["delaySeconds"] == 0


@test
def injected_failure_and_short_expiry():
    identity = ident("p256")
    FAKE.control("POST", "/_fake/config", {"failNext": 1, "failStatus": 503,
                                           "failType": "ServiceUnavailableException",
                                           "failMessage": "try later"})
    expect_refusal(FAKE.post(build(identity, FAKE.host)), 503, "ServiceUnavailableException",
                   "try later")
    expect_session(FAKE.post(build(identity, FAKE.host)), identity)
    FAKE.control("POST", "/_fake/config", {"expiresInSeconds": 120})
    expect_session(FAKE.post(build(identity, FAKE.host)), identity, duration=120)
    FAKE.control("POST", "/_fake/reset")


@test
def wrong_path_and_method_refused():
    identity = ident("p256")
    target, headers, body = build(identity, FAKE.host)
    expect_refusal(FAKE.send("POST", target.replace("/sessions", "/session"), headers, body),
                   404, "UnknownOperationException")
    expect_refusal(FAKE.send("GET", target, headers, body), 404, "UnknownOperationException")


@test
def bad_control_requests_refused():
    status, headers, _ = FAKE.send("POST", "/_fake/config", [("Host", FAKE.host)],
                                   b'{"delay": 1}')
    assert status == 400 and headers.get("x-amzn-ErrorType") == "ValidationException"


# ---- main ---------------------------------------------------------------------------------

def main():
    global PKI, HSM, FAKE, TLS_FAKE, MOTO_URL
    for name in list(os.environ):
        if name.startswith("AWS_"):
            del os.environ[name]
    os.environ["AWS_CONFIG_FILE"] = os.environ["AWS_SHARED_CREDENTIALS_FILE"] = os.devnull
    processes = []
    passed = failed = 0
    with tempfile.TemporaryDirectory(prefix="ra-fake-") as scratch:
        try:
            PKI = os.path.join(scratch, "pki")
            subprocess.run([os.path.join(HERE, "make-pki.sh"), PKI], check=True)
            hsm_lines = subprocess.run([os.path.join(HERE, "make-softhsm.sh"), PKI], check=True,
                                       stdout=subprocess.PIPE, text=True).stdout
            HSM = dict(line.split("=", 1) for line in hsm_lines.split())
            HSM = {key: value.strip("'") for key, value in HSM.items()}

            moto_port = free_port()
            MOTO_URL = f"http://127.0.0.1:{moto_port}"
            processes.append(subprocess.Popen(
                [sys.executable, "-m", "moto.server", "-H", "127.0.0.1", "-p", str(moto_port)],
                stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL))
            deadline = time.monotonic() + 30
            while True:
                try:
                    urllib.request.urlopen(f"{MOTO_URL}/moto-api/data.json", timeout=2).read()
                    break
                except OSError:
                    assert time.monotonic() < deadline, "moto did not start"
                    time.sleep(0.1)

            common = ["--region", REGION, "--moto", MOTO_URL,
                      "--trust-anchor", f"{TRUST_ANCHOR}={pki('root-ca.pem')}",
                      "--trust-anchor", f"{EU_TRUST_ANCHOR}={pki('root-ca.pem')}",
                      "--profile", f"{PROFILE}={ROLE},{SECOND_ROLE}"]
            process, port = start_fake(common)
            processes.append(process)
            FAKE = Endpoint(port)
            process, port = start_fake(common + ["--tls-cert", pki("server.pem"),
                                                 "--tls-key", pki("server.key")])
            processes.append(process)
            TLS_FAKE = Endpoint(port, ssl.create_default_context(cafile=pki("root-ca.pem")))


            for function in TESTS:
                try:
                    function()
                except Exception:  # noqa: BLE001 (report every failing case, then go on)
                    failed += 1
                    print(f"FAIL {function.__name__}", flush=True)
                    traceback.print_exc()
                else:
                    passed += 1
                    print(f"ok   {function.__name__}", flush=True)
        finally:
            for process in processes:
                process.terminate()
                process.wait(timeout=10)
    print(f"{passed} passed, {failed} failed")
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
