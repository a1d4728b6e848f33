#!/usr/bin/env bash
# Makes a private SoftHSM2 token holding the PKI's `hsm` leaf: its RSA private key, public key and
# certificate, all with CKA_ID 01 and CKA_LABEL awsenv-leaf.
# Usage: make-softhsm.sh OUTDIR
#   OUTDIR is a make-pki.sh output directory (made first when OUTDIR/hsm.pem is missing).
#   Writes OUTDIR/softhsm2.conf (tokens in OUTDIR/softhsm-tokens) and OUTDIR/softhsm.env, and
#   prints the same shell-style lines: SOFTHSM2_CONF, PKCS11_MODULE, PKCS11_KEY_URI,
#   PKCS11_CERT_URI, PKCS11_PIN.
# Token label awsenv, user PIN 1234, SO PIN 5678 (test values, not secrets).
set -euo pipefail

if [[ $# -ne 1 || -z $1 ]]; then
    echo "usage: make-softhsm.sh OUTDIR" >&2
    exit 2
fi
umask 077
mkdir -p "$1"
out=$(cd "$1" && pwd)
readonly out
readonly module=/usr/lib/softhsm/libsofthsm2.so
readonly token=awsenv label=awsenv-leaf id=01 pin=1234 so_pin=5678
here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
readonly here

if [[ ! -e ${module} ]] || ! command -v pkcs11-tool >/dev/null ||
    ! command -v softhsm2-util >/dev/null; then
    echo "make-softhsm.sh: installing softhsm2 and opensc with apt-get" >&2
    apt-get update -q >&2
    DEBIAN_FRONTEND=noninteractive apt-get install -y -q softhsm2 opensc >&2
fi
if [[ ! -e "${out}/hsm.pem" || ! -e "${out}/hsm.key" ]]; then
    "${here}/make-pki.sh" "${out}"
fi

# A config of our own, so no system token and no other test's token is ever seen.
rm -rf "${out}/softhsm-tokens"
mkdir -p "${out}/softhsm-tokens"
printf 'directories.tokendir = %s\nobjectstore.backend = file\nlog.level = ERROR\n' \
    "${out}/softhsm-tokens" >"${out}/softhsm2.conf"
export SOFTHSM2_CONF="${out}/softhsm2.conf"

softhsm2-util --init-token --free --label "${token}" --pin "${pin}" --so-pin "${so_pin}" >/dev/null

# pkcs11-tool reads DER; the conversions go to a scratch directory removed on exit.
scratch=$(mktemp -d)
readonly scratch
trap 'rm -rf "${scratch}"' EXIT
openssl pkey -in "${out}/hsm.key" -outform DER -out "${scratch}/key.der"
openssl pkey -in "${out}/hsm.key" -pubout -outform DER -out "${scratch}/pub.der"
openssl x509 -in "${out}/hsm.pem" -outform DER -out "${scratch}/cert.der"

p11() {
    pkcs11-tool --module "${module}" --token-label "${token}" "$@" >/dev/null
}
p11 --login --pin "${pin}" --write-object "${scratch}/key.der" --type privkey \
    --id "${id}" --label "${label}" --usage-sign
p11 --login --pin "${pin}" --write-object "${scratch}/pub.der" --type pubkey \
    --id "${id}" --label "${label}" --usage-sign
p11 --login --pin "${pin}" --write-object "${scratch}/cert.der" --type cert \
    --id "${id}" --label "${label}"

{
    printf 'SOFTHSM2_CONF=%s\n' "${SOFTHSM2_CONF}"
    printf 'PKCS11_MODULE=%s\n' "${module}"
    printf "PKCS11_KEY_URI='pkcs11:token=%s;object=%s;id=%%%s;type=private'\n" \
        "${token}" "${label}" "${id}"
    printf "PKCS11_CERT_URI='pkcs11:token=%s;object=%s;id=%%%s;type=cert'\n" \
        "${token}" "${label}" "${id}"
    printf 'PKCS11_PIN=%s\n' "${pin}"
} >"${out}/softhsm.env"
cat "${out}/softhsm.env"
