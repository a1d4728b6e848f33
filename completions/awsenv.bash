_awsenv() {
    local i cur prev opts cmd
    COMPREPLY=()
    if [[ "${BASH_VERSINFO[0]}" -ge 4 ]]; then
        cur="$2"
    else
        cur="${COMP_WORDS[COMP_CWORD]}"
    fi
    prev="$3"
    cmd=""
    opts=""

    for i in "${COMP_WORDS[@]:0:COMP_CWORD}"
    do
        case "${cmd},${i}" in
            ",$1")
                cmd="awsenv"
                ;;
            awsenv,accounts)
                cmd="awsenv__subcmd__accounts"
                ;;
            awsenv,assume)
                cmd="awsenv__subcmd__assume"
                ;;
            awsenv,authorized-keys)
                cmd="awsenv__subcmd__authorized__subcmd__keys"
                ;;
            awsenv,completions)
                cmd="awsenv__subcmd__completions"
                ;;
            awsenv,credential-process)
                cmd="awsenv__subcmd__credential__subcmd__process"
                ;;
            awsenv,doctor)
                cmd="awsenv__subcmd__doctor"
                ;;
            awsenv,exec)
                cmd="awsenv__subcmd__exec"
                ;;
            awsenv,help)
                cmd="awsenv__subcmd__help"
                ;;
            awsenv,init)
                cmd="awsenv__subcmd__init"
                ;;
            awsenv,mfa)
                cmd="awsenv__subcmd__mfa"
                ;;
            awsenv,now)
                cmd="awsenv__subcmd__now"
                ;;
            awsenv,prompt)
                cmd="awsenv__subcmd__prompt"
                ;;
            awsenv,provision-mfa)
                cmd="awsenv__subcmd__provision__subcmd__mfa"
                ;;
            awsenv,read-certificate-data)
                cmd="awsenv__subcmd__read__subcmd__certificate__subcmd__data"
                ;;
            awsenv,refresh)
                cmd="awsenv__subcmd__refresh"
                ;;
            awsenv,serve)
                cmd="awsenv__subcmd__serve"
                ;;
            awsenv,shell)
                cmd="awsenv__subcmd__shell"
                ;;
            awsenv,sign-string)
                cmd="awsenv__subcmd__sign__subcmd__string"
                ;;
            awsenv,ssh-cert)
                cmd="awsenv__subcmd__ssh__subcmd__cert"
                ;;
            awsenv,sso)
                cmd="awsenv__subcmd__sso"
                ;;
            awsenv,switch)
                cmd="awsenv__subcmd__switch"
                ;;
            awsenv,update)
                cmd="awsenv__subcmd__update"
                ;;
            awsenv,version)
                cmd="awsenv__subcmd__version"
                ;;
            awsenv__subcmd__help,accounts)
                cmd="awsenv__subcmd__help__subcmd__accounts"
                ;;
            awsenv__subcmd__help,assume)
                cmd="awsenv__subcmd__help__subcmd__assume"
                ;;
            awsenv__subcmd__help,authorized-keys)
                cmd="awsenv__subcmd__help__subcmd__authorized__subcmd__keys"
                ;;
            awsenv__subcmd__help,completions)
                cmd="awsenv__subcmd__help__subcmd__completions"
                ;;
            awsenv__subcmd__help,credential-process)
                cmd="awsenv__subcmd__help__subcmd__credential__subcmd__process"
                ;;
            awsenv__subcmd__help,doctor)
                cmd="awsenv__subcmd__help__subcmd__doctor"
                ;;
            awsenv__subcmd__help,exec)
                cmd="awsenv__subcmd__help__subcmd__exec"
                ;;
            awsenv__subcmd__help,help)
                cmd="awsenv__subcmd__help__subcmd__help"
                ;;
            awsenv__subcmd__help,init)
                cmd="awsenv__subcmd__help__subcmd__init"
                ;;
            awsenv__subcmd__help,mfa)
                cmd="awsenv__subcmd__help__subcmd__mfa"
                ;;
            awsenv__subcmd__help,now)
                cmd="awsenv__subcmd__help__subcmd__now"
                ;;
            awsenv__subcmd__help,prompt)
                cmd="awsenv__subcmd__help__subcmd__prompt"
                ;;
            awsenv__subcmd__help,provision-mfa)
                cmd="awsenv__subcmd__help__subcmd__provision__subcmd__mfa"
                ;;
            awsenv__subcmd__help,read-certificate-data)
                cmd="awsenv__subcmd__help__subcmd__read__subcmd__certificate__subcmd__data"
                ;;
            awsenv__subcmd__help,refresh)
                cmd="awsenv__subcmd__help__subcmd__refresh"
                ;;
            awsenv__subcmd__help,serve)
                cmd="awsenv__subcmd__help__subcmd__serve"
                ;;
            awsenv__subcmd__help,shell)
                cmd="awsenv__subcmd__help__subcmd__shell"
                ;;
            awsenv__subcmd__help,sign-string)
                cmd="awsenv__subcmd__help__subcmd__sign__subcmd__string"
                ;;
            awsenv__subcmd__help,ssh-cert)
                cmd="awsenv__subcmd__help__subcmd__ssh__subcmd__cert"
                ;;
            awsenv__subcmd__help,sso)
                cmd="awsenv__subcmd__help__subcmd__sso"
                ;;
            awsenv__subcmd__help,switch)
                cmd="awsenv__subcmd__help__subcmd__switch"
                ;;
            awsenv__subcmd__help,update)
                cmd="awsenv__subcmd__help__subcmd__update"
                ;;
            awsenv__subcmd__help,version)
                cmd="awsenv__subcmd__help__subcmd__version"
                ;;
            awsenv__subcmd__help__subcmd__sso,accounts)
                cmd="awsenv__subcmd__help__subcmd__sso__subcmd__accounts"
                ;;
            awsenv__subcmd__help__subcmd__sso,credentials)
                cmd="awsenv__subcmd__help__subcmd__sso__subcmd__credentials"
                ;;
            awsenv__subcmd__help__subcmd__sso,login)
                cmd="awsenv__subcmd__help__subcmd__sso__subcmd__login"
                ;;
            awsenv__subcmd__help__subcmd__sso,logout)
                cmd="awsenv__subcmd__help__subcmd__sso__subcmd__logout"
                ;;
            awsenv__subcmd__sso,accounts)
                cmd="awsenv__subcmd__sso__subcmd__accounts"
                ;;
            awsenv__subcmd__sso,credentials)
                cmd="awsenv__subcmd__sso__subcmd__credentials"
                ;;
            awsenv__subcmd__sso,help)
                cmd="awsenv__subcmd__sso__subcmd__help"
                ;;
            awsenv__subcmd__sso,login)
                cmd="awsenv__subcmd__sso__subcmd__login"
                ;;
            awsenv__subcmd__sso,logout)
                cmd="awsenv__subcmd__sso__subcmd__logout"
                ;;
            awsenv__subcmd__sso__subcmd__help,accounts)
                cmd="awsenv__subcmd__sso__subcmd__help__subcmd__accounts"
                ;;
            awsenv__subcmd__sso__subcmd__help,credentials)
                cmd="awsenv__subcmd__sso__subcmd__help__subcmd__credentials"
                ;;
            awsenv__subcmd__sso__subcmd__help,help)
                cmd="awsenv__subcmd__sso__subcmd__help__subcmd__help"
                ;;
            awsenv__subcmd__sso__subcmd__help,login)
                cmd="awsenv__subcmd__sso__subcmd__help__subcmd__login"
                ;;
            awsenv__subcmd__sso__subcmd__help,logout)
                cmd="awsenv__subcmd__sso__subcmd__help__subcmd__logout"
                ;;
            *)
                ;;
        esac
    done

    case "${cmd}" in
        awsenv)
            opts="-h -V --config --debug --help --version init switch mfa now refresh assume exec shell prompt credential-process update serve provision-mfa version accounts completions authorized-keys ssh-cert sign-string read-certificate-data sso doctor help"
            if [[ ${cur} == -* || ${COMP_CWORD} -eq 1 ]] ; then
                COMPREPLY=( $(compgen -W "${opts}" -- "${cur}") )
                return 0
            fi
            case "${prev}" in
                --config)
                    COMPREPLY=($(compgen -f "${cur}"))
                    return 0
                    ;;
                *)
                    COMPREPLY=()
                    ;;
            esac
            COMPREPLY=( $(compgen -W "${opts}" -- "${cur}") )
            return 0
            ;;
        awsenv__subcmd__accounts)
            opts="-h --names --config --debug --help"
            if [[ ${cur} == -* || ${COMP_CWORD} -eq 2 ]] ; then
                COMPREPLY=( $(compgen -W "${opts}" -- "${cur}") )
                return 0
            fi
            case "${prev}" in
                --config)
                    COMPREPLY=($(compgen -f "${cur}"))
                    return 0
                    ;;
                *)
                    COMPREPLY=()
                    ;;
            esac
            COMPREPLY=( $(compgen -W "${opts}" -- "${cur}") )
            return 0
            ;;
        awsenv__subcmd__assume)
            opts="-d -h --account --role --session-duration --duration --session-name --external-id --code --min-ttl --format --only-changes --config --debug --help"
            if [[ ${cur} == -* || ${COMP_CWORD} -eq 2 ]] ; then
                COMPREPLY=( $(compgen -W "${opts}" -- "${cur}") )
                return 0
            fi
            case "${prev}" in
                --account)
                    COMPREPLY=($(compgen -f "${cur}"))
                    return 0
                    ;;
                --role)
                    COMPREPLY=($(compgen -f "${cur}"))
                    return 0
                    ;;
                --duration)
                    COMPREPLY=($(compgen -f "${cur}"))
                    return 0
                    ;;
                --session-duration)
                    COMPREPLY=($(compgen -f "${cur}"))
                    return 0
                    ;;
                -d)
                    COMPREPLY=($(compgen -f "${cur}"))
                    return 0
                    ;;
                --session-name)
                    COMPREPLY=($(compgen -f "${cur}"))
                    return 0
                    ;;
                --external-id)
                    COMPREPLY=($(compgen -f "${cur}"))
                    return 0
                    ;;
                --code)
                    COMPREPLY=($(compgen -f "${cur}"))
                    return 0
                    ;;
                --min-ttl)
                    COMPREPLY=($(compgen -f "${cur}"))
                    return 0
                    ;;
                --format)
                    COMPREPLY=($(compgen -W "json bash fish" -- "${cur}"))
                    return 0
                    ;;
                --config)
                    COMPREPLY=($(compgen -f "${cur}"))
                    return 0
                    ;;
                *)
                    COMPREPLY=()
                    ;;
            esac
            COMPREPLY=( $(compgen -W "${opts}" -- "${cur}") )
            return 0
            ;;
        awsenv__subcmd__authorized__subcmd__keys)
            opts="-h --map --cache-dir --fresh --stale --timeout --profile --config --debug --help"
            if [[ ${cur} == -* || ${COMP_CWORD} -eq 2 ]] ; then
                COMPREPLY=( $(compgen -W "${opts}" -- "${cur}") )
                return 0
            fi
            case "${prev}" in
                --map)
                    COMPREPLY=($(compgen -f "${cur}"))
                    return 0
                    ;;
                --cache-dir)
                    COMPREPLY=($(compgen -f "${cur}"))
                    return 0
                    ;;
                --fresh)
                    COMPREPLY=($(compgen -f "${cur}"))
                    return 0
                    ;;
                --stale)
                    COMPREPLY=($(compgen -f "${cur}"))
                    return 0
                    ;;
                --timeout)
                    COMPREPLY=($(compgen -f "${cur}"))
                    return 0
                    ;;
                --profile)
                    COMPREPLY=($(compgen -f "${cur}"))
                    return 0
                    ;;
                --config)
                    COMPREPLY=($(compgen -f "${cur}"))
                    return 0
                    ;;
                *)
                    COMPREPLY=()
                    ;;
            esac
            COMPREPLY=( $(compgen -W "${opts}" -- "${cur}") )
            return 0
            ;;
        awsenv__subcmd__completions)
            opts="-h --config --debug --help bash zsh fish"
            if [[ ${cur} == -* || ${COMP_CWORD} -eq 2 ]] ; then
                COMPREPLY=( $(compgen -W "${opts}" -- "${cur}") )
                return 0
            fi
            case "${prev}" in
                --config)
                    COMPREPLY=($(compgen -f "${cur}"))
                    return 0
                    ;;
                *)
                    COMPREPLY=()
                    ;;
            esac
            COMPREPLY=( $(compgen -W "${opts}" -- "${cur}") )
            return 0
            ;;
        awsenv__subcmd__credential__subcmd__process)
            opts="-h --role --min-ttl --certificate --private-key --intermediates --trust-anchor-arn --profile-arn --role-arn --session-duration --region --endpoint --role-session-name --pkcs8-password --pkcs11-lib --reuse-pin --no-verify-ssl --with-proxy --config --debug --help"
            if [[ ${cur} == -* || ${COMP_CWORD} -eq 2 ]] ; then
                COMPREPLY=( $(compgen -W "${opts}" -- "${cur}") )
                return 0
            fi
            case "${prev}" in
                --role)
                    COMPREPLY=($(compgen -f "${cur}"))
                    return 0
                    ;;
                --min-ttl)
                    COMPREPLY=($(compgen -f "${cur}"))
                    return 0
                    ;;
                --certificate)
                    COMPREPLY=($(compgen -f "${cur}"))
                    return 0
                    ;;
                --private-key)
                    COMPREPLY=($(compgen -f "${cur}"))
                    return 0
                    ;;
                --intermediates)
                    COMPREPLY=($(compgen -f "${cur}"))
                    return 0
                    ;;
                --trust-anchor-arn)
                    COMPREPLY=($(compgen -f "${cur}"))
                    return 0
                    ;;
                --profile-arn)
                    COMPREPLY=($(compgen -f "${cur}"))
                    return 0
                    ;;
                --role-arn)
                    COMPREPLY=($(compgen -f "${cur}"))
                    return 0
                    ;;
                --session-duration)
                    COMPREPLY=($(compgen -f "${cur}"))
                    return 0
                    ;;
                --region)
                    COMPREPLY=($(compgen -f "${cur}"))
                    return 0
                    ;;
                --endpoint)
                    COMPREPLY=($(compgen -f "${cur}"))
                    return 0
                    ;;
                --role-session-name)
                    COMPREPLY=($(compgen -f "${cur}"))
                    return 0
                    ;;
                --pkcs8-password)
                    COMPREPLY=($(compgen -f "${cur}"))
                    return 0
                    ;;
                --pkcs11-lib)
                    COMPREPLY=($(compgen -f "${cur}"))
                    return 0
                    ;;
                --config)
                    COMPREPLY=($(compgen -f "${cur}"))
                    return 0
                    ;;
                *)
                    COMPREPLY=()
                    ;;
            esac
            COMPREPLY=( $(compgen -W "${opts}" -- "${cur}") )
            return 0
            ;;
        awsenv__subcmd__doctor)
            opts="-h --offline --json --config --debug --help"
            if [[ ${cur} == -* || ${COMP_CWORD} -eq 2 ]] ; then
                COMPREPLY=( $(compgen -W "${opts}" -- "${cur}") )
                return 0
            fi
            case "${prev}" in
                --from-shell)
                    COMPREPLY=($(compgen -W "bash zsh fish" -- "${cur}"))
                    return 0
                    ;;
                --shell-fact)
                    COMPREPLY=($(compgen -f "${cur}"))
                    return 0
                    ;;
                --shell-probe)
                    COMPREPLY=($(compgen -W "bash zsh fish" -- "${cur}"))
                    return 0
                    ;;
                --config)
                    COMPREPLY=($(compgen -f "${cur}"))
                    return 0
                    ;;
                *)
                    COMPREPLY=()
                    ;;
            esac
            COMPREPLY=( $(compgen -W "${opts}" -- "${cur}") )
            return 0
            ;;
        awsenv__subcmd__exec)
            opts="-h --role --keys --min-ttl --code --config --debug --help"
            if [[ ${cur} == -* || ${COMP_CWORD} -eq 2 ]] ; then
                COMPREPLY=( $(compgen -W "${opts}" -- "${cur}") )
                return 0
            fi
            case "${prev}" in
                --role)
                    COMPREPLY=($(compgen -f "${cur}"))
                    return 0
                    ;;
                --min-ttl)
                    COMPREPLY=($(compgen -f "${cur}"))
                    return 0
                    ;;
                --code)
                    COMPREPLY=($(compgen -f "${cur}"))
                    return 0
                    ;;
                --config)
                    COMPREPLY=($(compgen -f "${cur}"))
                    return 0
                    ;;
                *)
                    COMPREPLY=()
                    ;;
            esac
            COMPREPLY=( $(compgen -W "${opts}" -- "${cur}") )
            return 0
            ;;
        awsenv__subcmd__help)
            opts="init switch mfa now refresh assume exec shell prompt credential-process update serve provision-mfa version accounts completions authorized-keys ssh-cert sign-string read-certificate-data sso doctor help"
            if [[ ${cur} == -* || ${COMP_CWORD} -eq 2 ]] ; then
                COMPREPLY=( $(compgen -W "${opts}" -- "${cur}") )
                return 0
            fi
            case "${prev}" in
                *)
                    COMPREPLY=()
                    ;;
            esac
            COMPREPLY=( $(compgen -W "${opts}" -- "${cur}") )
            return 0
            ;;
        awsenv__subcmd__help__subcmd__accounts)
            opts=""
            if [[ ${cur} == -* || ${COMP_CWORD} -eq 3 ]] ; then
                COMPREPLY=( $(compgen -W "${opts}" -- "${cur}") )
                return 0
            fi
            case "${prev}" in
                *)
                    COMPREPLY=()
                    ;;
            esac
            COMPREPLY=( $(compgen -W "${opts}" -- "${cur}") )
            return 0
            ;;
        awsenv__subcmd__help__subcmd__assume)
            opts=""
            if [[ ${cur} == -* || ${COMP_CWORD} -eq 3 ]] ; then
                COMPREPLY=( $(compgen -W "${opts}" -- "${cur}") )
                return 0
            fi
            case "${prev}" in
                *)
                    COMPREPLY=()
                    ;;
            esac
            COMPREPLY=( $(compgen -W "${opts}" -- "${cur}") )
            return 0
            ;;
        awsenv__subcmd__help__subcmd__authorized__subcmd__keys)
            opts=""
            if [[ ${cur} == -* || ${COMP_CWORD} -eq 3 ]] ; then
                COMPREPLY=( $(compgen -W "${opts}" -- "${cur}") )
                return 0
            fi
            case "${prev}" in
                *)
                    COMPREPLY=()
                    ;;
            esac
            COMPREPLY=( $(compgen -W "${opts}" -- "${cur}") )
            return 0
            ;;
        awsenv__subcmd__help__subcmd__completions)
            opts=""
            if [[ ${cur} == -* || ${COMP_CWORD} -eq 3 ]] ; then
                COMPREPLY=( $(compgen -W "${opts}" -- "${cur}") )
                return 0
            fi
            case "${prev}" in
                *)
                    COMPREPLY=()
                    ;;
            esac
            COMPREPLY=( $(compgen -W "${opts}" -- "${cur}") )
            return 0
            ;;
        awsenv__subcmd__help__subcmd__credential__subcmd__process)
            opts=""
            if [[ ${cur} == -* || ${COMP_CWORD} -eq 3 ]] ; then
                COMPREPLY=( $(compgen -W "${opts}" -- "${cur}") )
                return 0
            fi
            case "${prev}" in
                *)
                    COMPREPLY=()
                    ;;
            esac
            COMPREPLY=( $(compgen -W "${opts}" -- "${cur}") )
            return 0
            ;;
        awsenv__subcmd__help__subcmd__doctor)
            opts=""
            if [[ ${cur} == -* || ${COMP_CWORD} -eq 3 ]] ; then
                COMPREPLY=( $(compgen -W "${opts}" -- "${cur}") )
                return 0
            fi
            case "${prev}" in
                *)
                    COMPREPLY=()
                    ;;
            esac
            COMPREPLY=( $(compgen -W "${opts}" -- "${cur}") )
            return 0
            ;;
        awsenv__subcmd__help__subcmd__exec)
            opts=""
            if [[ ${cur} == -* || ${COMP_CWORD} -eq 3 ]] ; then
                COMPREPLY=( $(compgen -W "${opts}" -- "${cur}") )
                return 0
            fi
            case "${prev}" in
                *)
                    COMPREPLY=()
                    ;;
            esac
            COMPREPLY=( $(compgen -W "${opts}" -- "${cur}") )
            return 0
            ;;
        awsenv__subcmd__help__subcmd__help)
            opts=""
            if [[ ${cur} == -* || ${COMP_CWORD} -eq 3 ]] ; then
                COMPREPLY=( $(compgen -W "${opts}" -- "${cur}") )
                return 0
            fi
            case "${prev}" in
                *)
                    COMPREPLY=()
                    ;;
            esac
            COMPREPLY=( $(compgen -W "${opts}" -- "${cur}") )
            return 0
            ;;
        awsenv__subcmd__help__subcmd__init)
            opts=""
            if [[ ${cur} == -* || ${COMP_CWORD} -eq 3 ]] ; then
                COMPREPLY=( $(compgen -W "${opts}" -- "${cur}") )
                return 0
            fi
            case "${prev}" in
                *)
                    COMPREPLY=()
                    ;;
            esac
            COMPREPLY=( $(compgen -W "${opts}" -- "${cur}") )
            return 0
            ;;
        awsenv__subcmd__help__subcmd__mfa)
            opts=""
            if [[ ${cur} == -* || ${COMP_CWORD} -eq 3 ]] ; then
                COMPREPLY=( $(compgen -W "${opts}" -- "${cur}") )
                return 0
            fi
            case "${prev}" in
                *)
                    COMPREPLY=()
                    ;;
            esac
            COMPREPLY=( $(compgen -W "${opts}" -- "${cur}") )
            return 0
            ;;
        awsenv__subcmd__help__subcmd__now)
            opts=""
            if [[ ${cur} == -* || ${COMP_CWORD} -eq 3 ]] ; then
                COMPREPLY=( $(compgen -W "${opts}" -- "${cur}") )
                return 0
            fi
            case "${prev}" in
                *)
                    COMPREPLY=()
                    ;;
            esac
            COMPREPLY=( $(compgen -W "${opts}" -- "${cur}") )
            return 0
            ;;
        awsenv__subcmd__help__subcmd__prompt)
            opts=""
            if [[ ${cur} == -* || ${COMP_CWORD} -eq 3 ]] ; then
                COMPREPLY=( $(compgen -W "${opts}" -- "${cur}") )
                return 0
            fi
            case "${prev}" in
                *)
                    COMPREPLY=()
                    ;;
            esac
            COMPREPLY=( $(compgen -W "${opts}" -- "${cur}") )
            return 0
            ;;
        awsenv__subcmd__help__subcmd__provision__subcmd__mfa)
            opts=""
            if [[ ${cur} == -* || ${COMP_CWORD} -eq 3 ]] ; then
                COMPREPLY=( $(compgen -W "${opts}" -- "${cur}") )
                return 0
            fi
            case "${prev}" in
                *)
                    COMPREPLY=()
                    ;;
            esac
            COMPREPLY=( $(compgen -W "${opts}" -- "${cur}") )
            return 0
            ;;
        awsenv__subcmd__help__subcmd__read__subcmd__certificate__subcmd__data)
            opts=""
            if [[ ${cur} == -* || ${COMP_CWORD} -eq 3 ]] ; then
                COMPREPLY=( $(compgen -W "${opts}" -- "${cur}") )
                return 0
            fi
            case "${prev}" in
                *)
                    COMPREPLY=()
                    ;;
            esac
            COMPREPLY=( $(compgen -W "${opts}" -- "${cur}") )
            return 0
            ;;
        awsenv__subcmd__help__subcmd__refresh)
            opts=""
            if [[ ${cur} == -* || ${COMP_CWORD} -eq 3 ]] ; then
                COMPREPLY=( $(compgen -W "${opts}" -- "${cur}") )
                return 0
            fi
            case "${prev}" in
                *)
                    COMPREPLY=()
                    ;;
            esac
            COMPREPLY=( $(compgen -W "${opts}" -- "${cur}") )
            return 0
            ;;
        awsenv__subcmd__help__subcmd__serve)
            opts=""
            if [[ ${cur} == -* || ${COMP_CWORD} -eq 3 ]] ; then
                COMPREPLY=( $(compgen -W "${opts}" -- "${cur}") )
                return 0
            fi
            case "${prev}" in
                *)
                    COMPREPLY=()
                    ;;
            esac
            COMPREPLY=( $(compgen -W "${opts}" -- "${cur}") )
            return 0
            ;;
        awsenv__subcmd__help__subcmd__shell)
            opts=""
            if [[ ${cur} == -* || ${COMP_CWORD} -eq 3 ]] ; then
                COMPREPLY=( $(compgen -W "${opts}" -- "${cur}") )
                return 0
            fi
            case "${prev}" in
                *)
                    COMPREPLY=()
                    ;;
            esac
            COMPREPLY=( $(compgen -W "${opts}" -- "${cur}") )
            return 0
            ;;
        awsenv__subcmd__help__subcmd__sign__subcmd__string)
            opts=""
            if [[ ${cur} == -* || ${COMP_CWORD} -eq 3 ]] ; then
                COMPREPLY=( $(compgen -W "${opts}" -- "${cur}") )
                return 0
            fi
            case "${prev}" in
                *)
                    COMPREPLY=()
                    ;;
            esac
            COMPREPLY=( $(compgen -W "${opts}" -- "${cur}") )
            return 0
            ;;
        awsenv__subcmd__help__subcmd__ssh__subcmd__cert)
            opts=""
            if [[ ${cur} == -* || ${COMP_CWORD} -eq 3 ]] ; then
                COMPREPLY=( $(compgen -W "${opts}" -- "${cur}") )
                return 0
            fi
            case "${prev}" in
                *)
                    COMPREPLY=()
                    ;;
            esac
            COMPREPLY=( $(compgen -W "${opts}" -- "${cur}") )
            return 0
            ;;
        awsenv__subcmd__help__subcmd__sso)
            opts="login logout accounts credentials"
            if [[ ${cur} == -* || ${COMP_CWORD} -eq 3 ]] ; then
                COMPREPLY=( $(compgen -W "${opts}" -- "${cur}") )
                return 0
            fi
            case "${prev}" in
                *)
                    COMPREPLY=()
                    ;;
            esac
            COMPREPLY=( $(compgen -W "${opts}" -- "${cur}") )
            return 0
            ;;
        awsenv__subcmd__help__subcmd__sso__subcmd__accounts)
            opts=""
            if [[ ${cur} == -* || ${COMP_CWORD} -eq 4 ]] ; then
                COMPREPLY=( $(compgen -W "${opts}" -- "${cur}") )
                return 0
            fi
            case "${prev}" in
                *)
                    COMPREPLY=()
                    ;;
            esac
            COMPREPLY=( $(compgen -W "${opts}" -- "${cur}") )
            return 0
            ;;
        awsenv__subcmd__help__subcmd__sso__subcmd__credentials)
            opts=""
            if [[ ${cur} == -* || ${COMP_CWORD} -eq 4 ]] ; then
                COMPREPLY=( $(compgen -W "${opts}" -- "${cur}") )
                return 0
            fi
            case "${prev}" in
                *)
                    COMPREPLY=()
                    ;;
            esac
            COMPREPLY=( $(compgen -W "${opts}" -- "${cur}") )
            return 0
            ;;
        awsenv__subcmd__help__subcmd__sso__subcmd__login)
            opts=""
            if [[ ${cur} == -* || ${COMP_CWORD} -eq 4 ]] ; then
                COMPREPLY=( $(compgen -W "${opts}" -- "${cur}") )
                return 0
            fi
            case "${prev}" in
                *)
                    COMPREPLY=()
                    ;;
            esac
            COMPREPLY=( $(compgen -W "${opts}" -- "${cur}") )
            return 0
            ;;
        awsenv__subcmd__help__subcmd__sso__subcmd__logout)
            opts=""
            if [[ ${cur} == -* || ${COMP_CWORD} -eq 4 ]] ; then
                COMPREPLY=( $(compgen -W "${opts}" -- "${cur}") )
                return 0
            fi
            case "${prev}" in
                *)
                    COMPREPLY=()
                    ;;
            esac
            COMPREPLY=( $(compgen -W "${opts}" -- "${cur}") )
            return 0
            ;;
        awsenv__subcmd__help__subcmd__switch)
            opts=""
            if [[ ${cur} == -* || ${COMP_CWORD} -eq 3 ]] ; then
                COMPREPLY=( $(compgen -W "${opts}" -- "${cur}") )
                return 0
            fi
            case "${prev}" in
                *)
                    COMPREPLY=()
                    ;;
            esac
            COMPREPLY=( $(compgen -W "${opts}" -- "${cur}") )
            return 0
            ;;
        awsenv__subcmd__help__subcmd__update)
            opts=""
            if [[ ${cur} == -* || ${COMP_CWORD} -eq 3 ]] ; then
                COMPREPLY=( $(compgen -W "${opts}" -- "${cur}") )
                return 0
            fi
            case "${prev}" in
                *)
                    COMPREPLY=()
                    ;;
            esac
            COMPREPLY=( $(compgen -W "${opts}" -- "${cur}") )
            return 0
            ;;
        awsenv__subcmd__help__subcmd__version)
            opts=""
            if [[ ${cur} == -* || ${COMP_CWORD} -eq 3 ]] ; then
                COMPREPLY=( $(compgen -W "${opts}" -- "${cur}") )
                return 0
            fi
            case "${prev}" in
                *)
                    COMPREPLY=()
                    ;;
            esac
            COMPREPLY=( $(compgen -W "${opts}" -- "${cur}") )
            return 0
            ;;
        awsenv__subcmd__init)
            opts="-h --no-prompt --no-wrapper --config --debug --help bash zsh fish"
            if [[ ${cur} == -* || ${COMP_CWORD} -eq 2 ]] ; then
                COMPREPLY=( $(compgen -W "${opts}" -- "${cur}") )
                return 0
            fi
            case "${prev}" in
                --config)
                    COMPREPLY=($(compgen -f "${cur}"))
                    return 0
                    ;;
                *)
                    COMPREPLY=()
                    ;;
            esac
            COMPREPLY=( $(compgen -W "${opts}" -- "${cur}") )
            return 0
            ;;
        awsenv__subcmd__mfa)
            opts="-d -h --shell --only-changes --session-duration --duration --code --config --debug --help"
            if [[ ${cur} == -* || ${COMP_CWORD} -eq 2 ]] ; then
                COMPREPLY=( $(compgen -W "${opts}" -- "${cur}") )
                return 0
            fi
            case "${prev}" in
                --shell)
                    COMPREPLY=($(compgen -W "bash zsh fish" -- "${cur}"))
                    return 0
                    ;;
                --duration)
                    COMPREPLY=($(compgen -f "${cur}"))
                    return 0
                    ;;
                --session-duration)
                    COMPREPLY=($(compgen -f "${cur}"))
                    return 0
                    ;;
                -d)
                    COMPREPLY=($(compgen -f "${cur}"))
                    return 0
                    ;;
                --code)
                    COMPREPLY=($(compgen -f "${cur}"))
                    return 0
                    ;;
                --config)
                    COMPREPLY=($(compgen -f "${cur}"))
                    return 0
                    ;;
                *)
                    COMPREPLY=()
                    ;;
            esac
            COMPREPLY=( $(compgen -W "${opts}" -- "${cur}") )
            return 0
            ;;
        awsenv__subcmd__now)
            opts="-h --config --debug --help"
            if [[ ${cur} == -* || ${COMP_CWORD} -eq 2 ]] ; then
                COMPREPLY=( $(compgen -W "${opts}" -- "${cur}") )
                return 0
            fi
            case "${prev}" in
                --config)
                    COMPREPLY=($(compgen -f "${cur}"))
                    return 0
                    ;;
                *)
                    COMPREPLY=()
                    ;;
            esac
            COMPREPLY=( $(compgen -W "${opts}" -- "${cur}") )
            return 0
            ;;
        awsenv__subcmd__prompt)
            opts="-h --shell --config --debug --help"
            if [[ ${cur} == -* || ${COMP_CWORD} -eq 2 ]] ; then
                COMPREPLY=( $(compgen -W "${opts}" -- "${cur}") )
                return 0
            fi
            case "${prev}" in
                --shell)
                    COMPREPLY=($(compgen -W "bash zsh fish" -- "${cur}"))
                    return 0
                    ;;
                --config)
                    COMPREPLY=($(compgen -f "${cur}"))
                    return 0
                    ;;
                *)
                    COMPREPLY=()
                    ;;
            esac
            COMPREPLY=( $(compgen -W "${opts}" -- "${cur}") )
            return 0
            ;;
        awsenv__subcmd__provision__subcmd__mfa)
            opts="-h --show-secret --config --debug --help"
            if [[ ${cur} == -* || ${COMP_CWORD} -eq 2 ]] ; then
                COMPREPLY=( $(compgen -W "${opts}" -- "${cur}") )
                return 0
            fi
            case "${prev}" in
                --config)
                    COMPREPLY=($(compgen -f "${cur}"))
                    return 0
                    ;;
                *)
                    COMPREPLY=()
                    ;;
            esac
            COMPREPLY=( $(compgen -W "${opts}" -- "${cur}") )
            return 0
            ;;
        awsenv__subcmd__read__subcmd__certificate__subcmd__data)
            opts="-h --certificate --pkcs11-lib --config --debug --help"
            if [[ ${cur} == -* || ${COMP_CWORD} -eq 2 ]] ; then
                COMPREPLY=( $(compgen -W "${opts}" -- "${cur}") )
                return 0
            fi
            case "${prev}" in
                --certificate)
                    COMPREPLY=($(compgen -f "${cur}"))
                    return 0
                    ;;
                --pkcs11-lib)
                    COMPREPLY=($(compgen -f "${cur}"))
                    return 0
                    ;;
                --config)
                    COMPREPLY=($(compgen -f "${cur}"))
                    return 0
                    ;;
                *)
                    COMPREPLY=()
                    ;;
            esac
            COMPREPLY=( $(compgen -W "${opts}" -- "${cur}") )
            return 0
            ;;
        awsenv__subcmd__refresh)
            opts="-h --shell --only-changes --code --config --debug --help"
            if [[ ${cur} == -* || ${COMP_CWORD} -eq 2 ]] ; then
                COMPREPLY=( $(compgen -W "${opts}" -- "${cur}") )
                return 0
            fi
            case "${prev}" in
                --shell)
                    COMPREPLY=($(compgen -W "bash zsh fish" -- "${cur}"))
                    return 0
                    ;;
                --code)
                    COMPREPLY=($(compgen -f "${cur}"))
                    return 0
                    ;;
                --config)
                    COMPREPLY=($(compgen -f "${cur}"))
                    return 0
                    ;;
                *)
                    COMPREPLY=()
                    ;;
            esac
            COMPREPLY=( $(compgen -W "${opts}" -- "${cur}") )
            return 0
            ;;
        awsenv__subcmd__serve)
            opts="-h --role --port --bind --hop-limit --certificate --private-key --intermediates --trust-anchor-arn --profile-arn --role-arn --session-duration --region --endpoint --role-session-name --pkcs8-password --pkcs11-lib --reuse-pin --no-verify-ssl --with-proxy --config --debug --help"
            if [[ ${cur} == -* || ${COMP_CWORD} -eq 2 ]] ; then
                COMPREPLY=( $(compgen -W "${opts}" -- "${cur}") )
                return 0
            fi
            case "${prev}" in
                --role)
                    COMPREPLY=($(compgen -f "${cur}"))
                    return 0
                    ;;
                --port)
                    COMPREPLY=($(compgen -f "${cur}"))
                    return 0
                    ;;
                --bind)
                    COMPREPLY=($(compgen -f "${cur}"))
                    return 0
                    ;;
                --hop-limit)
                    COMPREPLY=($(compgen -f "${cur}"))
                    return 0
                    ;;
                --certificate)
                    COMPREPLY=($(compgen -f "${cur}"))
                    return 0
                    ;;
                --private-key)
                    COMPREPLY=($(compgen -f "${cur}"))
                    return 0
                    ;;
                --intermediates)
                    COMPREPLY=($(compgen -f "${cur}"))
                    return 0
                    ;;
                --trust-anchor-arn)
                    COMPREPLY=($(compgen -f "${cur}"))
                    return 0
                    ;;
                --profile-arn)
                    COMPREPLY=($(compgen -f "${cur}"))
                    return 0
                    ;;
                --role-arn)
                    COMPREPLY=($(compgen -f "${cur}"))
                    return 0
                    ;;
                --session-duration)
                    COMPREPLY=($(compgen -f "${cur}"))
                    return 0
                    ;;
                --region)
                    COMPREPLY=($(compgen -f "${cur}"))
                    return 0
                    ;;
                --endpoint)
                    COMPREPLY=($(compgen -f "${cur}"))
                    return 0
                    ;;
                --role-session-name)
                    COMPREPLY=($(compgen -f "${cur}"))
                    return 0
                    ;;
                --pkcs8-password)
                    COMPREPLY=($(compgen -f "${cur}"))
                    return 0
                    ;;
                --pkcs11-lib)
                    COMPREPLY=($(compgen -f "${cur}"))
                    return 0
                    ;;
                --config)
                    COMPREPLY=($(compgen -f "${cur}"))
                    return 0
                    ;;
                *)
                    COMPREPLY=()
                    ;;
            esac
            COMPREPLY=( $(compgen -W "${opts}" -- "${cur}") )
            return 0
            ;;
        awsenv__subcmd__shell)
            opts="-h --role --config --debug --help"
            if [[ ${cur} == -* || ${COMP_CWORD} -eq 2 ]] ; then
                COMPREPLY=( $(compgen -W "${opts}" -- "${cur}") )
                return 0
            fi
            case "${prev}" in
                --role)
                    COMPREPLY=($(compgen -f "${cur}"))
                    return 0
                    ;;
                --config)
                    COMPREPLY=($(compgen -f "${cur}"))
                    return 0
                    ;;
                *)
                    COMPREPLY=()
                    ;;
            esac
            COMPREPLY=( $(compgen -W "${opts}" -- "${cur}") )
            return 0
            ;;
        awsenv__subcmd__sign__subcmd__string)
            opts="-h --private-key --certificate --pkcs8-password --pkcs11-lib --reuse-pin --digest --format --config --debug --help"
            if [[ ${cur} == -* || ${COMP_CWORD} -eq 2 ]] ; then
                COMPREPLY=( $(compgen -W "${opts}" -- "${cur}") )
                return 0
            fi
            case "${prev}" in
                --private-key)
                    COMPREPLY=($(compgen -f "${cur}"))
                    return 0
                    ;;
                --certificate)
                    COMPREPLY=($(compgen -f "${cur}"))
                    return 0
                    ;;
                --pkcs8-password)
                    COMPREPLY=($(compgen -f "${cur}"))
                    return 0
                    ;;
                --pkcs11-lib)
                    COMPREPLY=($(compgen -f "${cur}"))
                    return 0
                    ;;
                --digest)
                    COMPREPLY=($(compgen -W "SHA256 SHA384 SHA512" -- "${cur}"))
                    return 0
                    ;;
                --format)
                    COMPREPLY=($(compgen -W "json text bin" -- "${cur}"))
                    return 0
                    ;;
                --config)
                    COMPREPLY=($(compgen -f "${cur}"))
                    return 0
                    ;;
                *)
                    COMPREPLY=()
                    ;;
            esac
            COMPREPLY=( $(compgen -W "${opts}" -- "${cur}") )
            return 0
            ;;
        awsenv__subcmd__ssh__subcmd__cert)
            opts="-h --lambda-arn --environment --duration --source-address --ssh-private-key-filename --ssh-public-key-filename --output --dump --proxy-config --region --regional-sts --account --role --config --debug --help"
            if [[ ${cur} == -* || ${COMP_CWORD} -eq 2 ]] ; then
                COMPREPLY=( $(compgen -W "${opts}" -- "${cur}") )
                return 0
            fi
            case "${prev}" in
                --lambda-arn)
                    COMPREPLY=($(compgen -f "${cur}"))
                    return 0
                    ;;
                --environment)
                    COMPREPLY=($(compgen -f "${cur}"))
                    return 0
                    ;;
                --duration)
                    COMPREPLY=($(compgen -f "${cur}"))
                    return 0
                    ;;
                --source-address)
                    COMPREPLY=($(compgen -f "${cur}"))
                    return 0
                    ;;
                --ssh-private-key-filename)
                    COMPREPLY=($(compgen -f "${cur}"))
                    return 0
                    ;;
                --ssh-public-key-filename)
                    COMPREPLY=($(compgen -f "${cur}"))
                    return 0
                    ;;
                --output)
                    COMPREPLY=($(compgen -W "agent stdout file" -- "${cur}"))
                    return 0
                    ;;
                --proxy-config)
                    COMPREPLY=($(compgen -f "${cur}"))
                    return 0
                    ;;
                --region)
                    COMPREPLY=($(compgen -f "${cur}"))
                    return 0
                    ;;
                --account)
                    COMPREPLY=($(compgen -f "${cur}"))
                    return 0
                    ;;
                --role)
                    COMPREPLY=($(compgen -f "${cur}"))
                    return 0
                    ;;
                --config)
                    COMPREPLY=($(compgen -f "${cur}"))
                    return 0
                    ;;
                *)
                    COMPREPLY=()
                    ;;
            esac
            COMPREPLY=( $(compgen -W "${opts}" -- "${cur}") )
            return 0
            ;;
        awsenv__subcmd__sso)
            opts="-h --config --debug --help login logout accounts credentials help"
            if [[ ${cur} == -* || ${COMP_CWORD} -eq 2 ]] ; then
                COMPREPLY=( $(compgen -W "${opts}" -- "${cur}") )
                return 0
            fi
            case "${prev}" in
                --config)
                    COMPREPLY=($(compgen -f "${cur}"))
                    return 0
                    ;;
                *)
                    COMPREPLY=()
                    ;;
            esac
            COMPREPLY=( $(compgen -W "${opts}" -- "${cur}") )
            return 0
            ;;
        awsenv__subcmd__sso__subcmd__accounts)
            opts="-h --names --refresh --config --debug --help"
            if [[ ${cur} == -* || ${COMP_CWORD} -eq 3 ]] ; then
                COMPREPLY=( $(compgen -W "${opts}" -- "${cur}") )
                return 0
            fi
            case "${prev}" in
                --config)
                    COMPREPLY=($(compgen -f "${cur}"))
                    return 0
                    ;;
                *)
                    COMPREPLY=()
                    ;;
            esac
            COMPREPLY=( $(compgen -W "${opts}" -- "${cur}") )
            return 0
            ;;
        awsenv__subcmd__sso__subcmd__credentials)
            opts="-h --no-sign-in --config --debug --help"
            if [[ ${cur} == -* || ${COMP_CWORD} -eq 3 ]] ; then
                COMPREPLY=( $(compgen -W "${opts}" -- "${cur}") )
                return 0
            fi
            case "${prev}" in
                --config)
                    COMPREPLY=($(compgen -f "${cur}"))
                    return 0
                    ;;
                *)
                    COMPREPLY=()
                    ;;
            esac
            COMPREPLY=( $(compgen -W "${opts}" -- "${cur}") )
            return 0
            ;;
        awsenv__subcmd__sso__subcmd__help)
            opts="login logout accounts credentials help"
            if [[ ${cur} == -* || ${COMP_CWORD} -eq 3 ]] ; then
                COMPREPLY=( $(compgen -W "${opts}" -- "${cur}") )
                return 0
            fi
            case "${prev}" in
                *)
                    COMPREPLY=()
                    ;;
            esac
            COMPREPLY=( $(compgen -W "${opts}" -- "${cur}") )
            return 0
            ;;
        awsenv__subcmd__sso__subcmd__help__subcmd__accounts)
            opts=""
            if [[ ${cur} == -* || ${COMP_CWORD} -eq 4 ]] ; then
                COMPREPLY=( $(compgen -W "${opts}" -- "${cur}") )
                return 0
            fi
            case "${prev}" in
                *)
                    COMPREPLY=()
                    ;;
            esac
            COMPREPLY=( $(compgen -W "${opts}" -- "${cur}") )
            return 0
            ;;
        awsenv__subcmd__sso__subcmd__help__subcmd__credentials)
            opts=""
            if [[ ${cur} == -* || ${COMP_CWORD} -eq 4 ]] ; then
                COMPREPLY=( $(compgen -W "${opts}" -- "${cur}") )
                return 0
            fi
            case "${prev}" in
                *)
                    COMPREPLY=()
                    ;;
            esac
            COMPREPLY=( $(compgen -W "${opts}" -- "${cur}") )
            return 0
            ;;
        awsenv__subcmd__sso__subcmd__help__subcmd__help)
            opts=""
            if [[ ${cur} == -* || ${COMP_CWORD} -eq 4 ]] ; then
                COMPREPLY=( $(compgen -W "${opts}" -- "${cur}") )
                return 0
            fi
            case "${prev}" in
                *)
                    COMPREPLY=()
                    ;;
            esac
            COMPREPLY=( $(compgen -W "${opts}" -- "${cur}") )
            return 0
            ;;
        awsenv__subcmd__sso__subcmd__help__subcmd__login)
            opts=""
            if [[ ${cur} == -* || ${COMP_CWORD} -eq 4 ]] ; then
                COMPREPLY=( $(compgen -W "${opts}" -- "${cur}") )
                return 0
            fi
            case "${prev}" in
                *)
                    COMPREPLY=()
                    ;;
            esac
            COMPREPLY=( $(compgen -W "${opts}" -- "${cur}") )
            return 0
            ;;
        awsenv__subcmd__sso__subcmd__help__subcmd__logout)
            opts=""
            if [[ ${cur} == -* || ${COMP_CWORD} -eq 4 ]] ; then
                COMPREPLY=( $(compgen -W "${opts}" -- "${cur}") )
                return 0
            fi
            case "${prev}" in
                *)
                    COMPREPLY=()
                    ;;
            esac
            COMPREPLY=( $(compgen -W "${opts}" -- "${cur}") )
            return 0
            ;;
        awsenv__subcmd__sso__subcmd__login)
            opts="-h --force --device-code --config --debug --help"
            if [[ ${cur} == -* || ${COMP_CWORD} -eq 3 ]] ; then
                COMPREPLY=( $(compgen -W "${opts}" -- "${cur}") )
                return 0
            fi
            case "${prev}" in
                --config)
                    COMPREPLY=($(compgen -f "${cur}"))
                    return 0
                    ;;
                *)
                    COMPREPLY=()
                    ;;
            esac
            COMPREPLY=( $(compgen -W "${opts}" -- "${cur}") )
            return 0
            ;;
        awsenv__subcmd__sso__subcmd__logout)
            opts="-h --config --debug --help"
            if [[ ${cur} == -* || ${COMP_CWORD} -eq 3 ]] ; then
                COMPREPLY=( $(compgen -W "${opts}" -- "${cur}") )
                return 0
            fi
            case "${prev}" in
                --config)
                    COMPREPLY=($(compgen -f "${cur}"))
                    return 0
                    ;;
                *)
                    COMPREPLY=()
                    ;;
            esac
            COMPREPLY=( $(compgen -W "${opts}" -- "${cur}") )
            return 0
            ;;
        awsenv__subcmd__switch)
            opts="-h --shell --only-changes --config --debug --help"
            if [[ ${cur} == -* || ${COMP_CWORD} -eq 2 ]] ; then
                COMPREPLY=( $(compgen -W "${opts}" -- "${cur}") )
                return 0
            fi
            case "${prev}" in
                --shell)
                    COMPREPLY=($(compgen -W "bash zsh fish" -- "${cur}"))
                    return 0
                    ;;
                --config)
                    COMPREPLY=($(compgen -f "${cur}"))
                    return 0
                    ;;
                *)
                    COMPREPLY=()
                    ;;
            esac
            COMPREPLY=( $(compgen -W "${opts}" -- "${cur}") )
            return 0
            ;;
        awsenv__subcmd__update)
            opts="-h --profile --role --once --certificate --private-key --intermediates --trust-anchor-arn --profile-arn --role-arn --session-duration --region --endpoint --role-session-name --pkcs8-password --pkcs11-lib --reuse-pin --no-verify-ssl --with-proxy --config --debug --help"
            if [[ ${cur} == -* || ${COMP_CWORD} -eq 2 ]] ; then
                COMPREPLY=( $(compgen -W "${opts}" -- "${cur}") )
                return 0
            fi
            case "${prev}" in
                --profile)
                    COMPREPLY=($(compgen -f "${cur}"))
                    return 0
                    ;;
                --role)
                    COMPREPLY=($(compgen -f "${cur}"))
                    return 0
                    ;;
                --certificate)
                    COMPREPLY=($(compgen -f "${cur}"))
                    return 0
                    ;;
                --private-key)
                    COMPREPLY=($(compgen -f "${cur}"))
                    return 0
                    ;;
                --intermediates)
                    COMPREPLY=($(compgen -f "${cur}"))
                    return 0
                    ;;
                --trust-anchor-arn)
                    COMPREPLY=($(compgen -f "${cur}"))
                    return 0
                    ;;
                --profile-arn)
                    COMPREPLY=($(compgen -f "${cur}"))
                    return 0
                    ;;
                --role-arn)
                    COMPREPLY=($(compgen -f "${cur}"))
                    return 0
                    ;;
                --session-duration)
                    COMPREPLY=($(compgen -f "${cur}"))
                    return 0
                    ;;
                --region)
                    COMPREPLY=($(compgen -f "${cur}"))
                    return 0
                    ;;
                --endpoint)
                    COMPREPLY=($(compgen -f "${cur}"))
                    return 0
                    ;;
                --role-session-name)
                    COMPREPLY=($(compgen -f "${cur}"))
                    return 0
                    ;;
                --pkcs8-password)
                    COMPREPLY=($(compgen -f "${cur}"))
                    return 0
                    ;;
                --pkcs11-lib)
                    COMPREPLY=($(compgen -f "${cur}"))
                    return 0
                    ;;
                --config)
                    COMPREPLY=($(compgen -f "${cur}"))
                    return 0
                    ;;
                *)
                    COMPREPLY=()
                    ;;
            esac
            COMPREPLY=( $(compgen -W "${opts}" -- "${cur}") )
            return 0
            ;;
        awsenv__subcmd__version)
            opts="-h --config --debug --help"
            if [[ ${cur} == -* || ${COMP_CWORD} -eq 2 ]] ; then
                COMPREPLY=( $(compgen -W "${opts}" -- "${cur}") )
                return 0
            fi
            case "${prev}" in
                --config)
                    COMPREPLY=($(compgen -f "${cur}"))
                    return 0
                    ;;
                *)
                    COMPREPLY=()
                    ;;
            esac
            COMPREPLY=( $(compgen -W "${opts}" -- "${cur}") )
            return 0
            ;;
    esac
}

if [[ "${BASH_VERSINFO[0]}" -eq 4 && "${BASH_VERSINFO[1]}" -ge 4 || "${BASH_VERSINFO[0]}" -gt 4 ]]; then
    complete -F _awsenv -o nosort -o bashdefault -o default awsenv
else
    complete -F _awsenv -o bashdefault -o default awsenv
fi
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
