# shellcheck shell=bash
#
# What `awsenv doctor` asks of a zsh where awsenv is loaded. The awsenv function that init
# defines evaluates this (printed by `awsenv doctor --shell-probe zsh`) only when the user types
# `awsenv doctor`, so none of it costs a prompt anything. It hands the binary what only the shell
# can see, as `--shell-fact NAME=VALUE`: names, paths and yes/no, never the text of an alias or a
# function, which may hold anything. (Written in the part of zsh that bash shares, for shellcheck,
# as awsenv.zsh is.)

# __awsenv_doctor ARGS...: gathers the facts, then runs `awsenv doctor` with them and ARGS.
__awsenv_doctor() {
    \builtin emulate -L zsh
    local -a facts=(--from-shell zsh) after=()
    local line word rest seen=''
    facts+=(--shell-fact "version=${ZSH_VERSION-}" --shell-fact "bin=${__awsenv_bin-}")

    # What `aws` is, in the order zsh looks (alias, reserved word, function, builtin, command).
    line=$(\builtin whence -wa aws) || line=''
    while IFS= read -r word; do
        [[ -z ${word} ]] || facts+=(--shell-fact "aws=${word##*: }")
    done <<<"${line}"
    [[ -z ${__awsenv_wrapper-} ]] || facts+=(--shell-fact wrapper=yes)
    if [[ ${line} == 'aws: function'* || ${line} == *$'\naws: function'* ]]; then
        line=$(\builtin functions aws)
        if [[ ${line} == *__awsenv_owned* ]]; then
            facts+=(--shell-fact aws_function=awsenv)
        else
            facts+=(--shell-fact aws_function=other)
        fi
    fi
    # An alias reaches the wrapper when its first word, after VAR=value assignments, is aws:
    # zsh does not expand an alias again inside itself, so that word finds the function.
    # shellcheck disable=SC2154 # aliases is zsh's table of aliases
    if [[ -n ${aliases[aws]-} ]]; then
        rest=${aliases[aws]}
        while \builtin read -r word rest <<<"${rest}"; do
            [[ ${word} =~ ^[A-Za-z_][A-Za-z0-9_]*= ]] || break
        done
        if [[ ${word} == aws || ${word} == '\aws' ]]; then
            facts+=(--shell-fact aws_alias=wrapper)
        else
            facts+=(--shell-fact aws_alias=bypass)
        fi
    fi
    line=$(\builtin whence -p aws) && facts+=(--shell-fact "aws_file=${line}")

    # The prompt: the hook in precmd_functions, and the functions after it that set PS1.
    if [[ -n ${__awsenv_ps1_managed-} ]]; then
        facts+=(--shell-fact prompt=managed)
        # shellcheck disable=SC2154 # precmd_functions is zsh's list of prompt hooks
        for word in "${precmd_functions[@]}"; do
            if [[ ${word} == __awsenv_prompt_hook ]]; then
                seen=1 after=()
            elif [[ -n ${seen} ]]; then
                line=$(\builtin functions -- "${word}" 2>/dev/null)
                [[ ${line} != *PS1=* && ${line} != *PROMPT=* ]] || after+=("${word}")
            fi
        done
        if [[ -n ${seen} ]]; then
            facts+=(--shell-fact prompt_hook=registered)
            for word in "${after[@]}"; do
                facts+=(--shell-fact "prompt_after=${word}")
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
        case "${PS1-} ${RPS1-} ${precmd_functions[*]-}" in
        *AWSENV_PROMPT* | *awsenv_prompt*) facts+=(--shell-fact prompt_uses=yes) ;;
        *) facts+=(--shell-fact prompt_uses=no) ;;
        esac
    fi

    # Completion: init registers with compdef, which exists once compinit has run.
    if [[ -n ${__awsenv_compinit_missing-} ]]; then
        facts+=(--shell-fact compinit_at_init=no)
    else
        facts+=(--shell-fact compinit_at_init=yes)
    fi
    if \builtin whence -w compdef >/dev/null; then
        facts+=(--shell-fact compinit_now=yes)
    else
        facts+=(--shell-fact compinit_now=no)
    fi
    # shellcheck disable=SC2154 # _comps is compinit's table of completion functions
    if [[ -n ${_comps[awsenv]-} && -n ${_comps[ec2switch]-} ]]; then
        facts+=(--shell-fact completion=loaded)
    else
        facts+=(--shell-fact completion=missing)
    fi
    \command "${__awsenv_bin}" doctor "${facts[@]}" "$@"
}
