# awsenv for fish: awsenv init fish | source, at the end of ~/.config/fish/config.fish.
#
# The functions only call the binary and source what it prints on stdout: `set` lines for the
# complete set of variables awsenv owns, or nothing at all when it fails, so a failed command
# leaves the shell's variables as they were. Messages and questions go to stderr and the
# terminal. Names starting with __awsenv_ are internal.

set -g __awsenv_bin '::AWSENV_BIN::'

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
            case -d --duration
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

function ec2now --description 'Show the credentials, region and session lifetime of this shell'
    command $__awsenv_bin now
end
