#!/usr/bin/env python3
"""A strict stand-in for IAM Roles Anywhere's CreateSession, for awsenv's tests.

moto has no Roles Anywhere, so this server plays the service. It rebuilds the SigV4-X509
canonical request, verifies the signature with the certificate sent in X-Amz-X509, checks the
chain up to a configured trust anchor, the date, the scope and the region, and answers with
credentials minted by moto's STS AssumeRole, so that they work against the same moto.

Written from the service's documentation and seed-behaviour.md section 5, independently of
awsenv's code: a green test against it means awsenv's signature is right. Command line and
control endpoints: tests/fakes/README.md.
"""

import argparse
import base64
import binascii
import datetime
import hashlib
import json
import os
import re
import ssl
import sys
import threading
import time
import traceback
import urllib.parse
import uuid
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

from cryptography import x509
from cryptography.exceptions import InvalidSignature, UnsupportedAlgorithm
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric import ec, padding, rsa
from cryptography.x509.oid import NameOID

SERVICE = "rolesanywhere"
ALGORITHMS = {"AWS4-X509-RSA-SHA256": "RSA", "AWS4-X509-ECDSA-SHA256": "EC"}
REQUIRED_SIGNED = ("content-type", "host", "x-amz-date", "x-amz-x509")
QUERY_PARAMETERS = ("profileArn", "roleArn", "trustAnchorArn")
MAX_DATE_SKEW = datetime.timedelta(minutes=5)
MAX_BODY = 64 * 1024
EC_CURVES = {"secp256r1", "secp384r1"}
UUID = r"[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}"
RA_ARN = re.compile(
    r"^arn:(aws|aws-cn|aws-us-gov):rolesanywhere:([a-z]{2}(?:-[a-z]+)+-\d):(\d{12}):"
    r"(trust-anchor|profile)/(" + UUID + r")$"
)
ROLE_ARN = re.compile(r"^arn:(aws|aws-cn|aws-us-gov):iam::\d{12}:role/[\w+=,.@/-]{1,512}$", re.A)
SESSION_NAME = re.compile(r"^[\w+=,.@-]{2,64}$", re.A)
AMZ_DATE = re.compile(r"^\d{8}T\d{6}Z$")
AUTHORIZATION = re.compile(
    r"^(\S+) Credential=([^,\s]+),\s*SignedHeaders=([^,\s]+),\s*Signature=([0-9a-f]+)$"
)
DEFAULT_CONFIG = {
    "delaySeconds": 0,
    "clockSkewSeconds": 0,
    "expiresInSeconds": None,
    "failNext": 0,
    "failStatus": 500,
    "failType": "InternalServerException",
    "failMessage": "injected failure",
}


class Refusal(Exception):
    """An error answer in the service's shape: status, x-amzn-ErrorType, {"message": ...}."""

    def __init__(self, status, error_type, message):
        super().__init__(message)
        self.status, self.error_type, self.message = status, error_type, message


def denied(message):
    return Refusal(403, "AccessDeniedException", message)


def invalid(message):
    return Refusal(400, "ValidationException", message)


def utc_text(moment):
    return moment.astimezone(datetime.timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ")


def uri_encode(text):
    """SigV4 URI encoding: everything but A-Z a-z 0-9 - _ . ~ as upper-case %XX of UTF-8."""
    return urllib.parse.quote(text, safe="")


def percent_decode(text, what):
    if re.search(r"%(?![0-9A-Fa-f]{2})", text):
        raise invalid(f"malformed percent-encoding in query {what}")
    try:
        return urllib.parse.unquote(text, errors="strict")
    except UnicodeDecodeError as error:
        raise invalid(f"query {what} is not UTF-8") from error


def parse_query(raw):
    """The three ARNs, each exactly once, and nothing else (a client sends nothing else)."""
    params = {}
    for part in raw.split("&") if raw else []:
        name, _, value = part.partition("=")
        name = percent_decode(name, "parameter name")
        if name in params:
            raise invalid(f"query parameter {name} given more than once")
        params[name] = percent_decode(value, f"parameter {name}")
    unknown = sorted(set(params) - set(QUERY_PARAMETERS))
    if unknown:
        raise invalid(f"unknown query parameter {unknown[0]}")
    for name in QUERY_PARAMETERS:
        if not params.get(name):
            raise invalid(f"1 validation error detected: Value null at '{name}' failed to "
                          "satisfy constraint: Member must not be null")
    return params


def canonical_query(params):
    pairs = sorted((uri_encode(name), uri_encode(value)) for name, value in params.items())
    return "&".join(f"{name}={value}" for name, value in pairs)


def canonical_header_value(values):
    return ",".join(re.sub(" +", " ", value.strip()) for value in values)


def parse_ra_arn(arn, kind, region):
    """(partition, account) of a trust-anchor or profile ARN in this server's region."""
    match = RA_ARN.match(arn)
    if not match or match.group(4) != kind:
        raise invalid(f"{arn!r} is not a valid {kind} ARN")
    if match.group(2) != region:
        raise invalid(f"{kind} ARN {arn} is in region {match.group(2)}, "
                      f"but this endpoint serves {region}")
    return match.group(1), match.group(3)


def common_name(cert):
    names = cert.subject.get_attributes_for_oid(NameOID.COMMON_NAME)
    return str(names[0].value) if names else cert.subject.rfc4514_string()


def extension(cert, kind):
    try:
        return cert.extensions.get_extension_for_class(kind).value
    except x509.ExtensionNotFound:
        return None


def check_validity(cert, now, what):
    if now < cert.not_valid_before_utc:
        raise denied(f"{what} is not yet valid: valid from "
                     f"{utc_text(cert.not_valid_before_utc)}, now {utc_text(now)}")
    if now > cert.not_valid_after_utc:
        raise denied(f"{what} expired at {utc_text(cert.not_valid_after_utc)}, "
                     f"now {utc_text(now)}")


def check_leaf_profile(leaf):
    """What the service asks of an end-entity certificate besides its chain."""
    if leaf.version != x509.Version.v3:
        raise denied("Untrusted signing certificate: not an X.509 v3 certificate")
    constraints = extension(leaf, x509.BasicConstraints)
    if constraints is not None and constraints.ca:
        raise denied("Untrusted signing certificate: a CA certificate cannot sign requests")
    usage = extension(leaf, x509.KeyUsage)
    if usage is not None and not usage.digital_signature:
        raise denied("Untrusted signing certificate: key usage lacks digitalSignature")


def directly_issued(child, issuer):
    try:
        child.verify_directly_issued_by(issuer)
        return True
    except (ValueError, TypeError, InvalidSignature, UnsupportedAlgorithm):
        return False


def check_issuer(ca, now, cas_below):
    """An issuer on the path must be a valid CA whose path length allows the CAs below it."""
    constraints = extension(ca, x509.BasicConstraints)
    if constraints is None or not constraints.ca:
        raise denied(f"Untrusted signing certificate: issuer {ca.subject.rfc4514_string()} "
                     "is not a CA")
    if constraints.path_length is not None and cas_below > constraints.path_length:
        raise denied("Untrusted signing certificate: path length constraint exceeded")
    usage = extension(ca, x509.KeyUsage)
    if usage is not None and not usage.key_cert_sign:
        raise denied("Untrusted signing certificate: issuer key usage lacks keyCertSign")
    check_validity(ca, now, f"Issuer certificate {ca.subject.rfc4514_string()}")


def check_chain(leaf, intermediates, anchors, now):
    """A path leaf -> intermediates... -> one of the anchors' CA certificates, every link's
    signature checked; intermediates the path does not need are ignored, as a server would."""
    current, path, unused = leaf, [], list(intermediates)
    for _ in range(len(intermediates) + 1):
        for ca in anchors:
            if directly_issued(current, ca):
                check_issuer(ca, now, len(path))
                for below, issuer in enumerate(path):
                    check_issuer(issuer, now, below)
                return
        issuer = next((cert for cert in unused if directly_issued(current, cert)), None)
        if issuer is None:
            break
        unused.remove(issuer)
        path.append(issuer)
        current = issuer
    raise denied("Untrusted signing certificate")


def decode_certificate(text, header):
    try:
        return x509.load_der_x509_certificate(base64.b64decode(text, validate=True))
    except (binascii.Error, ValueError) as error:
        raise denied(f"{header} is not a base64-encoded DER X.509 certificate") from error


def verify_signature(leaf, algorithm, signature_hex, string_to_sign):
    key = leaf.public_key()
    if isinstance(key, rsa.RSAPublicKey):
        kind = "RSA"
        if key.key_size < 2048:
            raise denied(f"RSA key of {key.key_size} bits is too short")
    elif isinstance(key, ec.EllipticCurvePublicKey) and key.curve.name in EC_CURVES:
        kind = "EC"
    else:
        raise denied("Unsupported key type in the signing certificate")
    if ALGORITHMS[algorithm] != kind:
        raise denied(f"Signing algorithm {algorithm} does not match the certificate's "
                     f"{kind} key")
    if len(signature_hex) % 2:
        raise denied("Signature must be an even number of hex digits")
    signature = bytes.fromhex(signature_hex)
    try:
        if kind == "RSA":
            key.verify(signature, string_to_sign, padding.PKCS1v15(), hashes.SHA256())
        else:
            key.verify(signature, string_to_sign, ec.ECDSA(hashes.SHA256()))
    except InvalidSignature as error:
        raise denied("The request signature we calculated does not match the signature you "
                     "provided") from error


def check_date(amz_date, now):
    if not AMZ_DATE.match(amz_date):
        raise denied(f"X-Amz-Date {amz_date!r} is not of the form YYYYMMDDTHHMMSSZ")
    try:
        signed_at = datetime.datetime.strptime(amz_date, "%Y%m%dT%H%M%SZ").replace(
            tzinfo=datetime.timezone.utc)
    except ValueError as error:
        raise denied(f"X-Amz-Date {amz_date!r} is not a valid date") from error
    if signed_at < now - MAX_DATE_SKEW:
        raise denied(f"Signature expired: {amz_date} is now earlier than "
                     f"{(now - MAX_DATE_SKEW):%Y%m%dT%H%M%SZ} ({now:%Y%m%dT%H%M%SZ} - 5 min.)")
    if signed_at > now + MAX_DATE_SKEW:
        raise denied(f"Signature not yet current: {amz_date} is still later than "
                     f"{(now + MAX_DATE_SKEW):%Y%m%dT%H%M%SZ} ({now:%Y%m%dT%H%M%SZ} + 5 min.)")


def parse_body(body, content_type):
    media_type = content_type.split(";", 1)[0].strip().lower()
    if media_type != "application/json":
        raise invalid(f"Content-Type must be application/json, not {content_type!r}")
    try:
        document = json.loads(body.decode("utf-8")) if body.strip() else {}
    except (UnicodeDecodeError, ValueError) as error:
        raise Refusal(400, "SerializationException", "the body is not valid JSON") from error
    if not isinstance(document, dict):
        raise Refusal(400, "SerializationException", "the body is not a JSON object")
    duration = document.get("durationSeconds")
    if duration is not None:
        if not isinstance(duration, int) or isinstance(duration, bool):
            raise Refusal(400, "SerializationException", "durationSeconds must be an integer")
        if not 900 <= duration <= 43200:
            bound = "greater than or equal to 900" if duration < 900 else \
                "less than or equal to 43200"
            raise invalid(f"1 validation error detected: Value '{duration}' at "
                          f"'durationSeconds' failed to satisfy constraint: Member must have "
                          f"value {bound}")
    name = document.get("roleSessionName")
    if name is not None and (not isinstance(name, str) or not SESSION_NAME.match(name)):
        raise invalid("1 validation error detected: Value at 'roleSessionName' failed to "
                      "satisfy constraint: Member must have length between 2 and 64 and "
                      r"match the pattern [\w+=,.@-]*")
    return duration, name


class State:
    """Configuration from the command line, and the calls and knobs tests look at and turn."""

    def __init__(self, args):
        self.region = args.region
        self.anchors = {}
        self.profiles = {}
        self.lock = threading.Lock()
        self.sts = None
        self.reset()
        for item in args.trust_anchor:
            arn, path = split_option(item, "--trust-anchor")
            check_configured_arn(arn, "trust-anchor")
            try:
                with open(path, "rb") as pem:
                    certs = x509.load_pem_x509_certificates(pem.read())
            except (OSError, ValueError) as error:
                sys.exit(f"rolesanywhere: --trust-anchor {path}: {error}")
            for cert in certs:
                constraints = extension(cert, x509.BasicConstraints)
                if constraints is None or not constraints.ca:
                    sys.exit(f"rolesanywhere: {path}: {cert.subject.rfc4514_string()} is not "
                             "a CA certificate")
            self.anchors[arn] = certs
        for item in args.profile:
            arn, roles = split_option(item, "--profile")
            check_configured_arn(arn, "profile")
            role_list = roles.split(",")
            for role in role_list:
                if not ROLE_ARN.match(role):
                    sys.exit(f"rolesanywhere: --profile: {role!r} is not a role ARN")
            self.profiles[arn] = role_list

    def reset(self):
        with self.lock:
            self.config = dict(DEFAULT_CONFIG)
            self.calls = []
            self.successful = 0
            self.refused = 0
            # Calls under way when the test resets still finish and leave: keep counting them.
            self.in_flight = getattr(self, "in_flight", 0)
            self.max_in_flight = 0

    def now(self):
        with self.lock:
            skew = self.config["clockSkewSeconds"]
        return datetime.datetime.now(datetime.timezone.utc) + datetime.timedelta(seconds=skew)

    def configure(self, changes):
        if not isinstance(changes, dict):
            raise invalid("the config must be a JSON object")
        for key, value in changes.items():
            if key not in DEFAULT_CONFIG:
                raise invalid(f"unknown config key {key}")
            numeric = isinstance(value, (int, float)) and not isinstance(value, bool)
            if key in ("delaySeconds", "failNext") and not (numeric and value >= 0):
                raise invalid(f"{key} must be a number >= 0")
            if key == "clockSkewSeconds" and not numeric:
                raise invalid(f"{key} must be a number")
            if key == "expiresInSeconds" and value is not None and not (numeric and value > 0):
                raise invalid(f"{key} must be a number > 0 or null")
            if key == "failStatus" and not (isinstance(value, int) and 400 <= value <= 599):
                raise invalid(f"{key} must be an HTTP error status")
            if key in ("failType", "failMessage") and not isinstance(value, str):
                raise invalid(f"{key} must be a string")
        with self.lock:
            self.config.update(changes)
            return dict(self.config)

    def snapshot(self):
        with self.lock:
            return {"successful": self.successful, "refused": self.refused,
                    "maxInFlight": self.max_in_flight, "calls": list(self.calls)}

    def enter(self):
        with self.lock:
            self.in_flight += 1
            self.max_in_flight = max(self.max_in_flight, self.in_flight)
            return self.config["delaySeconds"]

    def leave(self, record):
        with self.lock:
            self.in_flight -= 1
            self.calls.append(record)
            if record["status"] == 201:
                self.successful += 1
            else:
                self.refused += 1

    def take_injected_failure(self):
        with self.lock:
            if self.config["failNext"] < 1:
                return None
            self.config["failNext"] -= 1
            cfg = self.config
            return Refusal(cfg["failStatus"], cfg["failType"], cfg["failMessage"])


def check_configured_arn(arn, kind):
    """Configured resources may be in any region: a request naming one elsewhere is refused."""
    match = RA_ARN.match(arn)
    if not match or match.group(4) != kind:
        sys.exit(f"rolesanywhere: {arn!r} is not a {kind} ARN "
                 f"(arn:aws:rolesanywhere:REGION:ACCOUNT:{kind}/UUID)")


def split_option(item, option):
    name, sep, value = item.partition("=")
    if not sep or not name or not value:
        sys.exit(f"rolesanywhere: {option} takes ARN=VALUE, not {item!r}")
    return name, value


class Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    server_version = "rolesanywhere-fake"
    sys_version = ""

    def log_message(self, format, *args):  # noqa: A002 (the base class's name)
        """Silenced: one line per CreateSession is written by create_session instead."""

    def do_GET(self):
        self.dispatch()

    def do_POST(self):
        self.dispatch()

    def do_PUT(self):
        self.dispatch()

    def do_DELETE(self):
        self.dispatch()

    def do_PATCH(self):
        self.dispatch()

    def dispatch(self):
        state = self.server.state
        path, _, query = self.path.partition("?")
        if path.startswith("/_fake/"):
            self.control(state, path)
        else:
            self.create_session(state, path, query)

    def read_body(self):
        """The whole body, or a refusal that also ends the connection (the body stays unread)."""
        length = self.headers.get("Content-Length", "0")
        if self.headers.get("Transfer-Encoding") or not length.isdigit() \
                or int(length) > MAX_BODY:
            self.close_connection = True
            raise Refusal(411, "ValidationException",
                          f"a Content-Length of at most {MAX_BODY} bytes is required")
        return self.rfile.read(int(length))

    def control(self, state, path):
        try:
            body = self.read_body()
            if path == "/_fake/calls" and self.command == "GET":
                answer = state.snapshot()
            elif path == "/_fake/reset" and self.command == "POST":
                state.reset()
                answer = {}
            elif path == "/_fake/config" and self.command == "POST":
                try:
                    changes = json.loads(body or b"{}")
                except ValueError as error:
                    raise invalid("the config is not JSON") from error
                answer = state.configure(changes)
            elif path == "/_fake/config" and self.command == "GET":
                answer = state.configure({})
            else:
                raise Refusal(404, "UnknownOperationException", f"no control endpoint {path}")
        except Refusal as refusal:
            self.send_error_shape(refusal)
            return
        self.send_json(200, answer)

    def create_session(self, state, path, query):
        record = {"at": utc_text(datetime.datetime.now(datetime.timezone.utc)),
                  "method": self.command, "path": path, "query": None, "algorithm": None,
                  "signedHeaders": None, "durationSeconds": None, "roleSessionName": None,
                  "serial": None, "chainLength": 0, "status": None, "errorType": None,
                  "message": None}
        delay = state.enter()
        try:
            body = self.read_body()
            if delay:
                time.sleep(delay)
            answer = self.authorise_and_mint(state, path, query, body, record)
            record["status"] = 201
        except Exception as error:  # noqa: BLE001 (every failure must still get an answer)
            answer = error if isinstance(error, Refusal) else Refusal(
                500, "InternalServerException", f"the fake failed: {error!r}")
            if not isinstance(error, Refusal):
                traceback.print_exc()
            record.update(status=answer.status, errorType=answer.error_type,
                          message=answer.message)
        # Counted before the answer leaves, so a test that has its answer sees the call.
        state.leave(record)
        if self.server.verbose:
            print(f"rolesanywhere: {self.command} {path} -> {record['status']} "
                  f"{record['errorType'] or ''} {record['message'] or ''}".rstrip(),
                  file=sys.stderr, flush=True)
        if isinstance(answer, Refusal):
            self.send_error_shape(answer)
        else:
            self.send_json(201, answer)

    def single_header(self, name):
        values = self.headers.get_all(name) or []
        if len(values) != 1:
            what = "missing" if not values else "given more than once"
            raise denied(f"{name} header {what}")
        return values[0].strip()

    def authorise_and_mint(self, state, path, query, body, record):
        if self.command != "POST" or path != "/sessions":
            raise Refusal(404, "UnknownOperationException",
                          f"no operation for {self.command} {path}")
        params = parse_query(query)
        record["query"] = params
        now = state.now()

        # Who signed: the Authorization header and the certificates it names.
        match = AUTHORIZATION.match(self.single_header("Authorization"))
        if not match:
            raise denied("Authorization header is not of the form '<algorithm> "
                         "Credential=..., SignedHeaders=..., Signature=<lower-case hex>'")
        algorithm, credential, signed_list, signature_hex = match.groups()
        record["algorithm"] = algorithm
        if algorithm not in ALGORITHMS:
            raise denied(f"Unsupported signing algorithm {algorithm}")
        amz_date = self.single_header("X-Amz-Date")
        check_date(amz_date, now)
        leaf = decode_certificate(self.single_header("X-Amz-X509"), "X-Amz-X509")
        record["serial"] = str(leaf.serial_number)
        chain_values = self.headers.get_all("X-Amz-X509-Chain") or []
        if len(chain_values) > 1:
            raise denied("X-Amz-X509-Chain header given more than once")
        intermediates = [decode_certificate(item, "X-Amz-X509-Chain")
                         for item in (chain_values[0].strip().split(",") if chain_values else [])]
        record["chainLength"] = len(intermediates)

        # What was signed: the signed header list, then the credential scope.
        names = signed_list.split(";")
        record["signedHeaders"] = names
        if names != sorted(set(names)) or any(name != name.lower() or not name for name in names):
            raise denied("SignedHeaders must be lower-case, sorted and without repeats")
        required = REQUIRED_SIGNED + (("x-amz-x509-chain",) if chain_values else ())
        missing = [name for name in required if name not in names]
        if missing:
            raise denied(f"SignedHeaders must include {';'.join(missing)}")
        if "authorization" in names:
            raise denied("SignedHeaders must not include authorization")
        absent = [name for name in names if self.headers.get_all(name) is None]
        if absent:
            raise denied(f"signed header {absent[0]} is not in the request")
        scope = credential.split("/")
        if len(scope) != 5:
            raise denied("Credential must be <serial>/<date>/<region>/rolesanywhere/aws4_request")
        serial, date, region, service, terminator = scope
        if serial != str(leaf.serial_number):
            raise denied(f"Credential serial {serial} is not the decimal serial number of the "
                         "certificate in X-Amz-X509")
        if date != amz_date[:8]:
            raise denied(f"Credential date {date} does not match X-Amz-Date {amz_date}")
        if region != state.region:
            raise denied(f"Credential should be scoped to a valid region, not '{region}'")
        if service != SERVICE or terminator != "aws4_request":
            raise denied(f"Credential should be scoped to correct service: '{SERVICE}' "
                         "and end in aws4_request")

        canonical_headers = "".join(
            f"{name}:{canonical_header_value(self.headers.get_all(name))}\n" for name in names)
        canonical_request = "\n".join([
            "POST", "/sessions", canonical_query(params), canonical_headers, signed_list,
            hashlib.sha256(body).hexdigest()])
        string_to_sign = "\n".join([
            algorithm, amz_date, f"{date}/{region}/{SERVICE}/aws4_request",
            hashlib.sha256(canonical_request.encode()).hexdigest()])
        verify_signature(leaf, algorithm, signature_hex, string_to_sign.encode())

        # Whether the signer is trusted, and for what.
        anchor_arn = params["trustAnchorArn"]
        partition, account = parse_ra_arn(anchor_arn, "trust-anchor", state.region)
        if anchor_arn not in state.anchors:
            raise Refusal(404, "ResourceNotFoundException", f"Trust anchor {anchor_arn} not found")
        check_validity(leaf, now, "Certificate")
        check_leaf_profile(leaf)
        check_chain(leaf, intermediates, state.anchors[anchor_arn], now)
        profile_arn = params["profileArn"]
        parse_ra_arn(profile_arn, "profile", state.region)
        if profile_arn not in state.profiles:
            raise Refusal(404, "ResourceNotFoundException", f"Profile {profile_arn} not found")
        role_arn = params["roleArn"]
        if role_arn not in state.profiles[profile_arn]:
            raise denied(f"Unable to assume role for {role_arn}: the profile does not list it")
        duration, session_name = parse_body(body, self.headers.get("Content-Type", ""))
        record.update(durationSeconds=duration, roleSessionName=session_name)
        injected = state.take_injected_failure()
        if injected:
            raise injected
        return mint(state, leaf, anchor_arn, partition, account, role_arn,
                    duration or 3600, session_name)

    def send_json(self, status, document, extra_headers=()):
        payload = json.dumps(document).encode()
        self.send_response(status)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(payload)))
        self.send_header("x-amzn-RequestId", str(uuid.uuid4()))
        for name, value in extra_headers:
            self.send_header(name, value)
        self.end_headers()
        self.wfile.write(payload)

    def send_error_shape(self, refusal):
        self.send_json(refusal.status, {"message": refusal.message},
                       [("x-amzn-ErrorType", refusal.error_type)])


def mint(state, leaf, anchor_arn, partition, account, role_arn, duration, session_name):
    """Credentials from moto's STS, so the caller can use them against the same moto."""
    name = session_name or leaf.serial_number.to_bytes(
        (leaf.serial_number.bit_length() + 7) // 8 or 1, "big").hex()
    try:
        answer = state.sts.assume_role(RoleArn=role_arn, RoleSessionName=name,
                                       DurationSeconds=duration)
    except Exception as error:  # any failure of moto is the fake's own fault: a 500
        raise Refusal(500, "InternalServerException", f"moto's AssumeRole failed: {error}")
    creds = answer["Credentials"]
    expiration = creds["Expiration"]
    with state.lock:
        override = state.config["expiresInSeconds"]
    if override is not None:
        expiration = datetime.datetime.now(datetime.timezone.utc) + datetime.timedelta(
            seconds=override)
    subject = uuid.uuid5(uuid.NAMESPACE_URL, anchor_arn + "|" + leaf.subject.rfc4514_string())
    return {
        "credentialSet": [{
            "assumedRoleUser": {"arn": answer["AssumedRoleUser"]["Arn"],
                                "assumedRoleId": answer["AssumedRoleUser"]["AssumedRoleId"]},
            "credentials": {"accessKeyId": creds["AccessKeyId"],
                            "expiration": utc_text(expiration),
                            "secretAccessKey": creds["SecretAccessKey"],
                            "sessionToken": creds["SessionToken"]},
            "packedPolicySize": answer.get("PackedPolicySize", 0),
            "roleArn": role_arn,
            "sourceIdentity": common_name(leaf),
        }],
        "subjectArn": f"arn:{partition}:{SERVICE}:{state.region}:{account}:subject/{subject}",
    }


def local_url(url):
    parsed = urllib.parse.urlsplit(url)
    if parsed.scheme not in ("http", "https") or parsed.hostname not in (
            "127.0.0.1", "localhost", "::1"):
        raise argparse.ArgumentTypeError(f"{url!r} is not an http(s) URL on this machine")
    return url


def sts_client(moto_url, region):
    """boto3 for moto only: no profile, config file, proxy or endpoint from the environment."""
    for name in list(os.environ):
        if name.startswith("AWS_") or name.lower() in ("http_proxy", "https_proxy", "all_proxy"):
            del os.environ[name]
    os.environ["AWS_CONFIG_FILE"] = os.devnull
    os.environ["AWS_SHARED_CREDENTIALS_FILE"] = os.devnull
    os.environ["NO_PROXY"] = os.environ["no_proxy"] = "127.0.0.1,localhost,::1"
    import boto3
    from botocore.config import Config

    return boto3.session.Session().client(
        "sts", endpoint_url=moto_url, region_name=region, aws_access_key_id="testing",
        aws_secret_access_key="testing",
        config=Config(retries={"max_attempts": 1}, connect_timeout=5, read_timeout=30))


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--port", type=int, default=0, help="0 picks a free port")
    parser.add_argument("--region", default="us-east-1")
    parser.add_argument("--moto", type=local_url, required=True, help="moto server URL")
    parser.add_argument("--trust-anchor", action="append", default=[],
                        metavar="ARN=CA_PEM_PATH")
    parser.add_argument("--profile", action="append", default=[],
                        metavar="ARN=ROLEARN[,ROLEARN...]")
    parser.add_argument("--tls-cert", help="serve HTTPS with this certificate (PEM)")
    parser.add_argument("--tls-key", help="the --tls-cert's private key (PEM)")
    parser.add_argument("--verbose", action="store_true",
                        help="one line on stderr per CreateSession call")
    args = parser.parse_args()
    if bool(args.tls_cert) != bool(args.tls_key):
        parser.error("--tls-cert and --tls-key go together")

    state = State(args)
    state.sts = sts_client(args.moto, args.region)
    server = ThreadingHTTPServer(("127.0.0.1", args.port), Handler)
    server.daemon_threads = True
    server.state = state
    server.verbose = args.verbose
    if args.tls_cert:
        context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
        context.minimum_version = ssl.TLSVersion.TLSv1_2
        context.load_cert_chain(args.tls_cert, args.tls_key)
        # The handshake happens in the request's thread, so a slow client blocks no one else.
        server.socket = context.wrap_socket(server.socket, server_side=True,
                                            do_handshake_on_connect=False)
    print(f"listening on 127.0.0.1:{server.server_address[1]}", flush=True)
    try:
        server.serve_forever()
    except KeyboardInterrupt:
        pass


if __name__ == "__main__":
    main()
