#!/usr/bin/env bash
# Makes a private SoftHSM2 token holding three of the PKI's leaves, each as its private key, public
# key and certificate under one CKA_ID and CKA_LABEL:
#   hsm         RSA 2048  id 01  label awsenv-leaf
#   hsm-ec      EC P-256  id 02  label awsenv-ec-leaf
#   hsm-always  RSA 2048  id 03  label awsenv-always-auth  (CKA_ALWAYS_AUTHENTICATE: the PIN again
#                                                          before each signature)
# Usage: make-softhsm.sh OUTDIR
#   OUTDIR is a make-pki.sh output directory (made first when one of those leaves is missing).
#   Writes OUTDIR/softhsm2.conf (tokens in OUTDIR/softhsm-tokens) and OUTDIR/softhsm.env, and
#   prints the same shell-style lines: SOFTHSM2_CONF, PKCS11_MODULE, PKCS11_KEY_URI,
#   PKCS11_CERT_URI, PKCS11_EC_KEY_URI, PKCS11_EC_CERT_URI, PKCS11_ALWAYS_AUTH_KEY_URI,
#   PKCS11_ALWAYS_AUTH_CERT_URI, PKCS11_PIN.
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
readonly token=awsenv pin=1234 so_pin=5678
here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
readonly here

if [[ ! -e ${module} ]] || ! command -v pkcs11-tool >/dev/null ||
    ! command -v softhsm2-util >/dev/null; then
    echo "make-softhsm.sh: installing softhsm2 and opensc with apt-get" >&2
    apt-get update -q >&2
    DEBIAN_FRONTEND=noninteractive apt-get install -y -q softhsm2 opensc >&2
fi
for leaf in hsm hsm-ec hsm-always; do
    if [[ ! -e "${out}/${leaf}.pem" || ! -e "${out}/${leaf}.key" ]]; then
        "${here}/make-pki.sh" "${out}"
        break
    fi
done

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

p11() {
    pkcs11-tool --module "${module}" --token-label "${token}" --login --pin "${pin}" "$@" >/dev/null
}

# put LEAF ID LABEL [EXTRA...]: LEAF.key, its public key and LEAF.pem on the token as ID/LABEL;
# EXTRA goes to the private key's import (--always-auth).
put() {
    local leaf=$1 id=$2 label=$3
    shift 3
    openssl pkey -in "${out}/${leaf}.key" -outform DER -out "${scratch}/${leaf}-key.der"
    openssl pkey -in "${out}/${leaf}.key" -pubout -outform DER -out "${scratch}/${leaf}-pub.der"
    openssl x509 -in "${out}/${leaf}.pem" -outform DER -out "${scratch}/${leaf}-cert.der"
    p11 --write-object "${scratch}/${leaf}-key.der" --type privkey --id "${id}" --label "${label}" \
        --usage-sign "$@"
    p11 --write-object "${scratch}/${leaf}-pub.der" --type pubkey --id "${id}" --label "${label}" \
        --usage-sign
    p11 --write-object "${scratch}/${leaf}-cert.der" --type cert --id "${id}" --label "${label}"
}

put hsm 01 awsenv-leaf
put hsm-ec 02 awsenv-ec-leaf
put hsm-always 03 awsenv-always-auth --always-auth

# uris NAME ID LABEL: the two shell-style URI lines for one object pair.
uris() {
    printf "PKCS11_%sKEY_URI='pkcs11:token=%s;object=%s;id=%%%s;type=private'\n" "$1" "${token}" "$3" "$2"
    printf "PKCS11_%sCERT_URI='pkcs11:token=%s;object=%s;id=%%%s;type=cert'\n" "$1" "${token}" "$3" "$2"
}
{
    printf 'SOFTHSM2_CONF=%s\n' "${SOFTHSM2_CONF}"
    printf 'PKCS11_MODULE=%s\n' "${module}"
    uris "" 01 awsenv-leaf
    uris EC_ 02 awsenv-ec-leaf
    uris ALWAYS_AUTH_ 03 awsenv-always-auth
    printf 'PKCS11_PIN=%s\n' "${pin}"
} >"${out}/softhsm.env"
cat "${out}/softhsm.env"
