# awsenv for fish: awsenv init fish | source, at the end of ~/.config/fish/config.fish.
#
# The functions run the binary only when credentials must change, and source what it prints on
# stdout: `set` lines for the complete set of variables awsenv owns, or nothing at all when it
# fails, so a failed command leaves the shell's variables as they were. Messages and questions go
# to stderr and the terminal. fish 3.6 has no clock builtin, so the aws wrapper's freshness check
# runs `date` and the prompt runs the binary once per prompt, and only while awsenv's credentials
# are set. Names starting with __awsenv_ are internal. `awsenv init` drops the sections between
# ">>> awsenv:NAME" and "<<< awsenv:NAME" markers that its options turn off.

set -g __awsenv_bin '::AWSENV_BIN::'

# True while the shell's keys are the ones awsenv set: the user may have exported others since.
function __awsenv_owned
    set -q AWSENV_ACCOUNT[1] AWS_ACCESS_KEY_ID[1] AWSENV_KEY_ID[1]
    and test "$AWSENV_KEY_ID" = "$AWS_ACCESS_KEY_ID"
end

function ec2switch --description 'Use an account\'s cached MFA session, else its long-term keys'
    command $__awsenv_bin switch --shell fish -- $argv | source
    return $pipestatus[1]
end

function ec2mfa --description 'Make or reuse an MFA session for the current account'
    # The code travels in the environment, never in a process's arguments.
    set -l args
    set -l code $AWSENV_MFA_CODE
    while set -q argv[1]
        switch $argv[1]
            case -d --duration --session-duration
                set -a args $argv[1] $argv[2]
                set -e argv[1]
            case '-*'
                set -a args $argv[1]
            case '*'
                set code $argv[1]
        end
        set -e argv[1]
    end
    AWSENV_MFA_CODE="$code" command $__awsenv_bin mfa --shell fish $args | source
    return $pipestatus[1]
end

function ec2role --description 'Switch to a role of an account, assumed with its cached MFA session'
    if test (count $argv) -lt 2
        echo 'usage: ec2role ACCOUNT ROLE [--duration SECONDS] [--external-id ID] [--session-name NAME]' >&2
        return 2
    end
    command $__awsenv_bin assume --format fish --account $argv[1] --role $argv[2] $argv[3..] | source
    return $pipestatus[1]
end

function ec2now --description 'Show the credentials, region and session lifetime of this shell'
    command $__awsenv_bin now
end

# >>> awsenv:wrapper
function aws --wraps aws --description 'The aws CLI, after renewing awsenv credentials that are about to run out'
    if set -q AWSENV_EXPIRES[1]; and __awsenv_owned
        set -l window 600
        if string match -qr '^[0-9]+$' -- "$AWSENV_REFRESH_WINDOW"
            set window $AWSENV_REFRESH_WINDOW
        end
        set -l left (math $AWSENV_EXPIRES - (date +%s))
        if test $left -le $window
            command $__awsenv_bin refresh --shell fish | source
            if test $pipestatus[1] -ne 0
                if test $left -gt 0
                    printf 'awsenv: could not renew the session of %s; running aws on the current one (%ss left)\n' $AWSENV_ACCOUNT $left >&2
                else
                    printf 'awsenv: the session of %s has expired and could not be renewed; not running aws\n' $AWSENV_ACCOUNT >&2
                    return 1
                end
            end
        end
    end
    command aws $argv
end
# <<< awsenv:wrapper

# awsenv_prompt: print the segment for this shell's credentials, "(aws:prod+42m) ": one process,
# and only while awsenv's credentials are set.
function awsenv_prompt --description 'Print the awsenv prompt segment'
    __awsenv_owned; or return 0
    command $__awsenv_bin prompt --shell fish
end

# >>> awsenv:prompt-hook
# The segment goes in front of the right prompt; one the user had is kept and shown after it.
if not set -q __awsenv_right_prompt_wrapped
    set -g __awsenv_right_prompt_wrapped 1
    if functions -q fish_right_prompt
        functions -c fish_right_prompt __awsenv_original_right_prompt
    end
end

function __awsenv_return --description 'Set $status'
    return $argv[1]
end

function fish_right_prompt --description 'awsenv segment, then the right prompt it replaced'
    set -l last_status $status
    awsenv_prompt
    if functions -q __awsenv_original_right_prompt
        __awsenv_return $last_status
        __awsenv_original_right_prompt
    end
end
# <<< awsenv:prompt-hook

# Account names come from __awsenv_accounts, in the completion script that follows.
complete -c ec2switch -f -n 'test (count (commandline -opc)) -eq 1' -a '(__awsenv_accounts)'
complete -c ec2role -f -n 'test (count (commandline -opc)) -eq 1' -a '(__awsenv_accounts)'
