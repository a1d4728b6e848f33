# shellcheck shell=bash
#
# awsenv for zsh: eval "$(awsenv init zsh)" at the end of ~/.zshrc.
# (The shellcheck directive above is for linting: shellcheck has no zsh mode, and this file keeps
# to the part of zsh that bash shares.)
#
# The functions only call the binary and evaluate what it prints on stdout: exports for the
# complete set of variables awsenv owns, or nothing at all when it fails, so a failed command
# leaves the shell's variables as they were. Messages and questions go to stderr and the
# terminal. Names starting with __awsenv_ are internal.

# =============================================================================
# Internals
#

__awsenv_bin='::AWSENV_BIN::'

# Ctrl-C is ignored while the exports are evaluated, so a set is applied whole or not at all.
__awsenv_apply() {
    \builtin emulate -L zsh
    [[ -n ${1-} ]] || return 0
    \builtin trap '' INT
    \builtin eval -- "$1"
    \builtin trap - INT
}

# =============================================================================
# Commands
#

# ec2switch [ACCOUNT]: use the account's cached MFA session, else its long-term keys.
# Without an account, list them.
ec2switch() {
    \builtin emulate -L zsh
    local __awsenv_out
    __awsenv_out=$(\command "${__awsenv_bin}" switch --shell zsh -- "$@") || \builtin return
    __awsenv_apply "${__awsenv_out}"
}

# ec2mfa [--duration SECONDS] [CODE]: make or reuse an MFA session for the current account.
# The code travels in the environment, never in a process's arguments.
ec2mfa() {
    \builtin emulate -L zsh
    local __awsenv_out __awsenv_code=${AWSENV_MFA_CODE-}
    local -a __awsenv_args=()
    while (($# > 0)); do
        case $1 in
        -d | --duration)
            __awsenv_args+=("$1" "${2-}")
            \builtin shift
            ;;
        -*) __awsenv_args+=("$1") ;;
        *) __awsenv_code=$1 ;;
        esac
        \builtin shift
    done
    __awsenv_out=$(AWSENV_MFA_CODE=${__awsenv_code} \command "${__awsenv_bin}" mfa --shell zsh "${__awsenv_args[@]}") || \builtin return
    __awsenv_apply "${__awsenv_out}"
}

# ec2now: which credentials this shell holds, the region, and how long a session has left.
ec2now() {
    \builtin emulate -L zsh
    \command "${__awsenv_bin}" now
}
