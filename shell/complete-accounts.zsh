
# Account names for awsenv's ACCOUNT arguments, from the store's NAME.access_key files, with no
# process: a Tab never waits for the binary.
_awsenv_accounts() {
    emulate -L zsh
    setopt null_glob
    local dir=${AWSENV_DIR:-${HOME}/aws-creds} file
    local -a names=()
    for file in "${dir}"/*.access_key; do
        file=${file##*/}
        names+=("${file%.access_key}")
    done
    compadd -a names
}
