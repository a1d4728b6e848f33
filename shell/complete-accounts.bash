# shellcheck shell=bash
# Account names for awsenv's ACCOUNT arguments, with no process, so a Tab never waits for the
# binary: the store's NAME.access_key and NAME.x509 files (one kind of account each), the
# profiles of the aws CLI's files, then the SESSION/ACCOUNT_ID/ROLE names of the roles an SSO
# sign-in reaches, as `awsenv sso accounts` last listed them.

__awsenv_complete_accounts() {
    local dir=${AWSENV_DIR:-${HOME}/aws-creds} file line
    local pattern='^[[:space:]]*\[(profile[[:space:]]+)?([A-Za-z0-9._-]+)[[:space:]]*\]'
    COMPREPLY=()
    for file in "${dir}/${1-}"*.access_key "${dir}/${1-}"*.x509; do
        [[ -e ${file} ]] || continue
        file=${file##*/}
        COMPREPLY+=("${file%.*}")
    done
    for file in "${AWS_CONFIG_FILE:-${HOME}/.aws/config}" "${AWS_SHARED_CREDENTIALS_FILE:-${HOME}/.aws/credentials}"; do
        [[ -r ${file} ]] || continue
        while IFS= read -r line || [[ -n ${line} ]]; do
            if [[ ${line} =~ ${pattern} && ${BASH_REMATCH[2]} == "${1-}"* ]]; then
                COMPREPLY+=("${BASH_REMATCH[2]}")
            fi
        done <"${file}"
    done
    for file in "${dir}"/.awsenv/sso/*.names; do
        [[ -r ${file} ]] || continue
        while IFS= read -r line; do
            [[ -n ${line} && ${line} == "${1-}"* ]] && COMPREPLY+=("${line}")
        done <"${file}"
    done
}

# Accounts where awsenv takes one (after --account, and as the first argument of switch, mfa,
# exec, shell, credential-process, update and serve); everything else from clap's completion,
# which `awsenv init bash` leaves to be loaded from the binary on the first Tab.
__awsenv_complete() {
    if ! \builtin declare -F _awsenv >/dev/null; then
        local script
        script=$(\command "${__awsenv_bin:-awsenv}" completions bash) || return 0
        \builtin eval -- "${script}"
    fi
    local cur=${COMP_WORDS[COMP_CWORD]-} prev=${COMP_WORDS[COMP_CWORD - 1]-}
    local before=${COMP_WORDS[COMP_CWORD - 2]-} sub=${COMP_WORDS[1]-}
    if [[ ${prev} == --account ]]; then
        __awsenv_complete_accounts "${cur}"
        return 0
    fi
    case ${sub} in
    switch | mfa | exec | shell | credential-process | update | serve)
        if [[ ${cur} != -* && (${prev} == "${sub}" || ${prev} == --keys || ${prev} == --once || ${before} == --*) ]]; then
            __awsenv_complete_accounts "${cur}"
            ((${#COMPREPLY[@]} > 0)) && return 0
        fi
        ;;
    *) ;;
    esac
    _awsenv "$@"
}
\builtin complete -F __awsenv_complete -o nosort -o bashdefault -o default awsenv
