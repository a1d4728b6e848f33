#!/usr/bin/env bash
# Makes, with the openssl CLI only, every certificate and key the IAM Roles Anywhere tests need.
# Usage: make-pki.sh OUTDIR        (file names: tests/fakes/README.md)
# Nothing here is secret: the keys exist only for the tests. They are still written 0600 in a
# 0700 directory, as a user's keys would be.
set -euo pipefail

if [[ $# -ne 1 || -z $1 ]]; then
    echo "usage: make-pki.sh OUTDIR" >&2
    exit 2
fi
readonly out=$1
umask 077
mkdir -p "${out}"
chmod 0700 "${out}"
readonly work="${out}/.ca"
rm -rf "${work}"
mkdir -p "${work}"

# Requests need only a distinguished-name section; they get their real subject from -subj.
readonly req_conf="${work}/req.cnf"
printf '[req]\ndistinguished_name = req_dn\nprompt = no\n[req_dn]\nCN = placeholder\n' >"${req_conf}"

# One openssl config for every CA; each CA keeps its own database under ${work}/db-<name>.
readonly conf="${work}/ca.cnf"
cat >"${conf}" <<'EOF'
[ca]
default_ca = ca_default

[ca_default]
dir = $ENV::CA_DB
database = $dir/index.txt
serial = $dir/serial
new_certs_dir = $dir
default_md = sha256
policy = policy_any
unique_subject = no
copy_extensions = none
email_in_dn = no

[policy_any]
commonName = supplied
organizationName = optional

[root_ca]
basicConstraints = critical, CA:true
keyUsage = critical, keyCertSign, cRLSign
subjectKeyIdentifier = hash
authorityKeyIdentifier = keyid:always

[intermediate_ca]
basicConstraints = critical, CA:true, pathlen:0
keyUsage = critical, keyCertSign, cRLSign
subjectKeyIdentifier = hash
authorityKeyIdentifier = keyid:always

[client_leaf]
basicConstraints = critical, CA:false
keyUsage = critical, digitalSignature
extendedKeyUsage = clientAuth
subjectKeyIdentifier = hash
authorityKeyIdentifier = keyid:always

[tls_server]
basicConstraints = critical, CA:false
keyUsage = critical, digitalSignature, keyEncipherment
extendedKeyUsage = serverAuth
subjectAltName = IP:127.0.0.1, DNS:localhost
subjectKeyIdentifier = hash
authorityKeyIdentifier = keyid:always
EOF

# Runs a noisy openssl command, showing its output only when it fails.
quiet() {
    local log
    if ! log=$("$@" 2>&1); then
        printf '%s\n' "${log}" >&2
        return 1
    fi
}

# UTC times in openssl's GeneralizedTime form, relative to now (GNU date syntax).
utc() {
    date -u -d "$1" +%Y%m%d%H%M%SZ
}

valid_from=$(utc '-1 day')
valid_to=$(utc '+365 days')
ca_to=$(utc '+3650 days')
expired_from=$(utc '-30 days')
expired_to=$(utc '-1 day')
future_from=$(utc '+30 days')
future_to=$(utc '+60 days')
readonly valid_from valid_to ca_to expired_from expired_to future_from future_to

# Key makers. Each writes one PEM private key in the named encoding.
key_rsa_pkcs1() {
    openssl genpkey -quiet -algorithm RSA -pkeyopt "rsa_keygen_bits:$2" |
        openssl pkey -traditional -out "$1"
}
key_rsa_pkcs8() {
    openssl genpkey -quiet -algorithm RSA -pkeyopt "rsa_keygen_bits:$2" -out "$1"
}
key_ec_sec1() {
    openssl ecparam -name "$2" -genkey -noout -out "$1"
}
key_ec_pkcs8() {
    openssl genpkey -quiet -algorithm EC -pkeyopt "ec_paramgen_curve:$2" \
        -pkeyopt ec_param_enc:named_curve -out "$1"
}

# new_ca NAME CN ISSUER SECTION KEYMAKER ARG: CA certificate NAME.pem with key NAME.key,
# signed by ISSUER, or self-signed when ISSUER is NAME.
new_ca() {
    local name=$1 cn=$2 issuer=$3 section=$4 maker=$5 arg=$6
    local -a signer=(-selfsign)
    mkdir -p "${work}/db-${name}"
    : >"${work}/db-${name}/index.txt"
    "${maker}" "${out}/${name}.key" "${arg}"
    openssl req -new -config "${req_conf}" -key "${out}/${name}.key" \
        -subj "/O=awsenv tests/CN=${cn}" -out "${work}/${name}.csr"
    if [[ ${issuer} != "${name}" ]]; then
        signer=(-cert "${out}/${issuer}.pem")
    fi
    CA_DB="${work}/db-${issuer}" quiet openssl ca -batch -notext -config "${conf}" "${signer[@]}" \
        -keyfile "${out}/${issuer}.key" -in "${work}/${name}.csr" -rand_serial \
        -startdate "${valid_from}" -enddate "${ca_to}" -extensions "${section}" \
        -out "${out}/${name}.pem"
}

# issue NAME ISSUER KEY SECTION FROM TO: certificate NAME.pem for the public half of KEY,
# signed by ISSUER (ISSUER.pem / ISSUER.key), valid FROM..TO, extensions from SECTION.
issue() {
    local name=$1 issuer=$2 key=$3 section=$4 from=$5 to=$6
    openssl req -new -config "${req_conf}" -key "${key}" \
        -subj "/O=awsenv tests/CN=awsenv-test-${name}" -out "${work}/${name}.csr"
    CA_DB="${work}/db-${issuer}" quiet openssl ca -batch -notext -config "${conf}" \
        -cert "${out}/${issuer}.pem" -keyfile "${out}/${issuer}.key" \
        -in "${work}/${name}.csr" -rand_serial -startdate "${from}" -enddate "${to}" \
        -extensions "${section}" -out "${out}/${name}.pem"
}

# leaf NAME ISSUER KEYMAKER ARG: a valid client certificate NAME.pem with its key NAME.key.
leaf() {
    local name=$1 issuer=$2 maker=$3 arg=$4
    "${maker}" "${out}/${name}.key" "${arg}"
    issue "${name}" "${issuer}" "${out}/${name}.key" client_leaf "${valid_from}" "${valid_to}"
}

# The trust anchor (RSA), an intermediate below it (EC, so both kinds of link are checked), and
# two CAs the trust anchor knows nothing of: one with an unrelated name, one with the very same
# name as the trust anchor (an impostor, which only a signature check tells apart).
new_ca root-ca "awsenv test root CA" root-ca root_ca key_rsa_pkcs8 2048
new_ca intermediate-ca "awsenv test intermediate CA" root-ca intermediate_ca key_ec_pkcs8 P-384
new_ca unrelated-ca "awsenv unrelated CA" unrelated-ca root_ca key_ec_pkcs8 P-256
new_ca impostor-ca "awsenv test root CA" impostor-ca root_ca key_rsa_pkcs8 2048

# Good leaves, one per supported key type and encoding.
leaf rsa2048 root-ca key_rsa_pkcs1 2048
leaf rsa4096 root-ca key_rsa_pkcs8 4096
leaf p256 root-ca key_ec_sec1 prime256v1
leaf p384 root-ca key_ec_pkcs8 P-384

# A leaf issued by the intermediate, and the intermediates bundle that goes with it.
leaf chained intermediate-ca key_ec_pkcs8 P-256
cp "${out}/intermediate-ca.pem" "${out}/chained-intermediates.pem"

# A PBES2-encrypted PKCS#8 key (PBKDF2-HMAC-SHA256, AES-256-CBC) and its passphrase.
printf '%s' 'correct horse battery staple' >"${out}/encrypted.pass"
key_rsa_pkcs8 "${work}/encrypted-plain.key" 2048
issue encrypted root-ca "${work}/encrypted-plain.key" client_leaf "${valid_from}" "${valid_to}"
openssl pkcs8 -topk8 -in "${work}/encrypted-plain.key" -v2 aes-256-cbc -v2prf hmacWithSHA256 \
    -iter 2048 -passout "file:${out}/encrypted.pass" -out "${out}/encrypted.key"

# Outside their validity period, both issued by the trust anchor.
key_rsa_pkcs8 "${out}/expired.key" 2048
issue expired root-ca "${out}/expired.key" client_leaf "${expired_from}" "${expired_to}"
key_ec_pkcs8 "${out}/notyetvalid.key" P-256
issue notyetvalid root-ca "${out}/notyetvalid.key" client_leaf "${future_from}" "${future_to}"

# A certificate and a key of the same type that do not belong together.
leaf mismatched root-ca key_rsa_pkcs1 2048
key_rsa_pkcs1 "${out}/mismatched.key" 2048

# Key and certificate in one file (PKCS#8 key first, then the certificate).
key_rsa_pkcs8 "${work}/combined.key" 2048
issue combined root-ca "${work}/combined.key" client_leaf "${valid_from}" "${valid_to}"
cat "${work}/combined.key" "${out}/combined.pem" >"${work}/combined.both"
mv "${work}/combined.both" "${out}/combined.pem"

# Leaves from CAs the trust anchor does not vouch for.
leaf unrelated unrelated-ca key_rsa_pkcs1 2048
leaf impostor impostor-ca key_rsa_pkcs1 2048

# The keys and certificates make-softhsm.sh puts on the token: RSA, EC P-256, and RSA again for
# the key it marks CKA_ALWAYS_AUTHENTICATE.
leaf hsm root-ca key_rsa_pkcs8 2048
leaf hsm-ec root-ca key_ec_pkcs8 P-256
leaf hsm-always root-ca key_rsa_pkcs8 2048

# A TLS server certificate for 127.0.0.1 / localhost, for the fake's --tls-cert/--tls-key.
key_ec_pkcs8 "${out}/server.key" P-256
issue server root-ca "${out}/server.key" tls_server "${valid_from}" "${valid_to}"

chmod 0600 "${out}"/*.key "${out}/encrypted.pass" "${out}/combined.pem"
find "${out}" -maxdepth 1 -name '*.pem' ! -name combined.pem -exec chmod 0644 {} +
rm -rf "${work}"
