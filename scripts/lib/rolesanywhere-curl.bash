#!/usr/bin/env bash
# scripts/bench's reference for a new certificate session: one IAM Roles Anywhere CreateSession
# signed as the service requires (SigV4-X509: the canonical request hashed with sha256sum, the
# string to sign signed with `openssl dgst -sha256 -sign`, RSA PKCS#1 v1.5) and sent with curl.
# What stays the same from call to call is worked out once by the bench and comes in the
# environment:
#   RA_KEY       the private key (PEM)          RA_CERT_B64  the certificate, base64 DER
#   RA_SERIAL    its serial number in decimal   RA_QUERY     the three ARNs, encoded and sorted
#   RA_ENDPOINT  http://127.0.0.1:PORT          RA_REGION    the scope's region
#   RA_SCRATCH   a directory for the two files openssl and sha256sum read
# Processes per call: bash, sha256sum, openssl, curl (printf -v and the date are builtins).
# shellcheck disable=SC2154 # the RA_* variables come from the environment (scripts/bench)
set -euo pipefail
export TZ=UTC0 # X-Amz-Date is UTC; bash's own strftime (printf %()T) reads TZ

create_session() {
    local body='{"durationSeconds":3600}' signed='content-type;host;x-amz-date;x-amz-x509'
    local amz day scope body_hash canonical hash to_sign signature
    printf -v amz '%(%Y%m%dT%H%M%SZ)T' -1
    day=${amz%%T*}
    scope=${day}/${RA_REGION}/rolesanywhere/aws4_request
    # The body's SHA-256 (printf '%s' "$body" | sha256sum), the canonical request's last line.
    body_hash=1a15f67f6619aa540b13e9a4c37d149fb2c9bdea25d82b73a3878826694dfe27
    printf -v canonical 'POST\n/sessions\n%s\ncontent-type:application/json\nhost:%s\nx-amz-date:%s\nx-amz-x509:%s\n\n%s\n%s' \
        "${RA_QUERY}" "${RA_ENDPOINT#*://}" "${amz}" "${RA_CERT_B64}" "${signed}" "${body_hash}"
    printf '%s' "${canonical}" >"${RA_SCRATCH}/canonical"
    hash=$(sha256sum "${RA_SCRATCH}/canonical")
    printf -v to_sign 'AWS4-X509-RSA-SHA256\n%s\n%s\n%s' "${amz}" "${scope}" "${hash%% *}"
    printf '%s' "${to_sign}" >"${RA_SCRATCH}/to-sign"
    signature=$(openssl dgst -sha256 -sign "${RA_KEY}" -hex "${RA_SCRATCH}/to-sign")
    curl -sS -f -o /dev/null -H 'Content-Type: application/json' -H "X-Amz-Date: ${amz}" \
        -H "X-Amz-X509: ${RA_CERT_B64}" \
        -H "Authorization: AWS4-X509-RSA-SHA256 Credential=${RA_SERIAL}/${scope}, SignedHeaders=${signed}, Signature=${signature##* }" \
        --data-binary "${body}" "${RA_ENDPOINT}/sessions?${RA_QUERY}"
}

create_session
