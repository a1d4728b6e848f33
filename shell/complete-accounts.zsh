
# Account names for awsenv's ACCOUNT arguments, with no process, so a Tab never waits for the
# binary: the store's NAME.access_key and NAME.x509 files (one kind of account each), the
# profiles of the aws CLI's files, then the SESSION/ACCOUNT_ID/ROLE names of the roles an SSO
# sign-in reaches, as `awsenv sso accounts` last listed them.
_awsenv_accounts() {
    emulate -L zsh
    setopt null_glob
    local dir=${AWSENV_DIR:-${HOME}/aws-creds} file line
    local pattern='^[[:space:]]*\[(profile[[:space:]]+)?([A-Za-z0-9._-]+)[[:space:]]*\]'
    local -a names=()
    for file in "${dir}"/*.access_key "${dir}"/*.x509; do
        file=${file##*/}
        names+=("${file%.*}")
    done
    for file in "${AWS_CONFIG_FILE:-${HOME}/.aws/config}" "${AWS_SHARED_CREDENTIALS_FILE:-${HOME}/.aws/credentials}"; do
        [[ -r ${file} ]] || continue
        while IFS= read -r line || [[ -n ${line} ]]; do
            [[ ${line} =~ ${pattern} ]] && names+=("${match[2]}")
        done <"${file}"
    done
    for file in "${dir}"/.awsenv/sso/*.names; do
        while IFS= read -r line; do
            [[ -n ${line} ]] && names+=("${line}")
        done <"${file}"
    done
    compadd -a names
}
