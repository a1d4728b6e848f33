# shellcheck shell=bash
#
# What `awsenv doctor` asks of a bash where awsenv is loaded. The awsenv function that init
# defines evaluates this (printed by `awsenv doctor --shell-probe bash`) only when the user types
# `awsenv doctor`, so none of it costs a prompt anything. It hands the binary what only the shell
# can see, as `--shell-fact NAME=VALUE`: names, paths and yes/no, never the text of an alias or a
# function, which may hold anything.

# __awsenv_doctor ARGS...: gathers the facts, then runs `awsenv doctor` with them and ARGS.
__awsenv_doctor() {
    local -a facts=(--from-shell bash) words=()
    local line word rest commands after
    facts+=(--shell-fact "version=${BASH_VERSION-}" --shell-fact "bin=${__awsenv_bin-}")

    # What `aws` is, in the order bash looks (alias, keyword, function, builtin, file).
    line=$(\builtin type -ta aws 2>/dev/null) || line=''
    while IFS= read -r word; do
        [[ -z ${word} ]] || facts+=(--shell-fact "aws=${word}")
    done <<<"${line}"
    [[ -z ${__awsenv_wrapper-} ]] || facts+=(--shell-fact wrapper=yes)
    if \builtin declare -F aws >/dev/null; then
        line=$(\builtin declare -f aws)
        if [[ ${line} == *__awsenv_owned* ]]; then
            facts+=(--shell-fact aws_function=awsenv)
        else
            facts+=(--shell-fact aws_function=other)
        fi
    fi
    # An alias reaches the wrapper when its first word, after VAR=value assignments, is aws:
    # bash does not expand an alias again inside itself, so that word finds the function.
    if [[ -n ${BASH_ALIASES[aws]+set} ]]; then
        rest=${BASH_ALIASES[aws]}
        while \builtin read -r word rest <<<"${rest}"; do
            [[ ${word} =~ ^[A-Za-z_][A-Za-z0-9_]*= ]] || break
        done
        if [[ ${word} == aws || ${word} == '\aws' ]]; then
            facts+=(--shell-fact aws_alias=wrapper)
        else
            facts+=(--shell-fact aws_alias=bypass)
        fi
    fi
    line=$(\builtin type -P aws 2>/dev/null) && facts+=(--shell-fact "aws_file=${line}")

    # The prompt: the hook in PROMPT_COMMAND, and what runs after it that sets PS1.
    if [[ -n ${__awsenv_ps1_managed-} ]]; then
        facts+=(--shell-fact prompt=managed)
        commands=${PROMPT_COMMAND[*]-}
        if [[ ${commands} == *__awsenv_prompt_hook* ]]; then
            facts+=(--shell-fact prompt_hook=registered)
            after=${commands##*__awsenv_prompt_hook}
            [[ ${after} != *PS1=* && ${after} != *PS1+=* ]] || facts+=(--shell-fact prompt_after=PROMPT_COMMAND)
            \builtin read -ra words <<<"${after//[;&|()$'\n']/ }"
            for word in "${words[@]}"; do
                \builtin declare -F -- "${word}" >/dev/null || continue
                line=$(\builtin declare -f -- "${word}")
                [[ ${line} != *PS1=* && ${line} != *PS1+=* ]] || facts+=(--shell-fact "prompt_after=${word}")
            done
        else
            facts+=(--shell-fact prompt_hook=missing)
        fi
        if [[ -n ${__awsenv_ps1_prefix-} ]]; then
            if [[ ${PS1-} == "${__awsenv_ps1_prefix}"* ]]; then
                facts+=(--shell-fact prompt_segment=in)
            else
                facts+=(--shell-fact prompt_segment=missing)
            fi
        fi
    else
        facts+=(--shell-fact prompt=own)
        case "${PS1-} ${PROMPT_COMMAND[*]-}" in
        *AWSENV_PROMPT* | *awsenv_prompt*) facts+=(--shell-fact prompt_uses=yes) ;;
        *) facts+=(--shell-fact prompt_uses=no) ;;
        esac
    fi

    if \builtin complete -p awsenv >/dev/null 2>&1 && \builtin complete -p ec2switch >/dev/null 2>&1; then
        facts+=(--shell-fact completion=loaded)
    else
        facts+=(--shell-fact completion=missing)
    fi
    \command "${__awsenv_bin}" doctor "${facts[@]}" "$@"
}
